package dev.grit.engine.command;

import dev.grit.engine.object.ObjectLayout;
import java.util.List;

/**
 * How attempts ended, from the node that ran them. Reports of stale attempts are ignored.
 *
 * @param chunks new chunks of the reported outputs and logs, when they are few enough to travel
 *     with the report (saves a {@link PutChunks} entry); else empty
 */
public record ReportResults(List<Report> reports, List<PutChunks.Chunk> chunks)
    implements Command, CarriesChunks {
  public ReportResults {
    reports = List.copyOf(reports);
    chunks = List.copyOf(chunks);
  }

  public ReportResults(List<Report> reports) {
    this(reports, List.of());
  }

  /**
   * @param error null when the attempt succeeded
   * @param outputs the attempt's files, published only if it succeeded and is still current
   * @param log the stored tail of its stdout and stderr
   * @param jitterPermille 0..999, chosen by the reporter: spreads retry back-off
   */
  public record Report(
      long taskId,
      int attempt,
      String node,
      int exitCode,
      String error,
      List<Output> outputs,
      ObjectLayout log,
      long startedAt,
      long finishedAt,
      int jitterPermille) {

    public Report {
      outputs = List.copyOf(outputs);
    }

    public boolean succeeded() {
      return error == null;
    }
  }

  public record Output(String name, ObjectLayout layout) {}
}
