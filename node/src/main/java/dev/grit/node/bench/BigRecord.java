package dev.grit.node.bench;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.ObjectLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds a record that holds a long history, quickly: {@code PIPELINES} finished runs of the
 * trivial pipeline ({@code make} writes {@code WIDTH} items, {@code upper} maps each), applied
 * through the same apply rules as a node, in large batches, with no Raft and no scripts; the
 * objects' bytes go to the object store beside it ({@code objects/}), as a node's would. The record
 * is then marked as having applied nothing, so a node started on it (with an empty Raft log)
 * applies its own entries after that history.
 *
 * <p>Usage: {@code BigRecord DATA_DIR PIPELINES WIDTH}: writes {@code DATA_DIR/state.db} and {@code
 * DATA_DIR/objects}.
 */
public final class BigRecord {
  private BigRecord() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Path file = dir.resolve("state.db");
    int pipelines = Integer.parseInt(args[1]);
    int width = Integer.parseInt(args[2]);
    long t0 = System.nanoTime();
    long index = 0;
    long tasks = 0;
    long clock = 1_600_000_000_000L;
    ObjectLayout log = ObjectLayout.of(new byte[0]);
    var bytes = new ArrayList<ChunkStore.Chunk>();
    try (SqlState state = SqlState.open(file);
        ChunkStore chunks = ChunkStore.open(dir.resolve("objects"))) {
      for (int p = 0; p < pipelines; p++) {
        String pipeline = "history-" + p;
        long firstTask = -1;
        var steps =
            List.of(
                step("make", "make " + width, List.of()),
                step("upper", "upper", List.of("item_*")));
        state.apply(
            1,
            ++index,
            new SubmitRun(
                "req-" + p, pipeline, "history.toml", "", steps, clock, null, List.of(), 0));
        long seed = taskIdOfLast(state, pipeline);
        firstTask = seed;
        state.apply(
            1, ++index, new AssignTasks(clock, List.of(new AssignTasks.Assignment(seed, 1, "n1"))));
        var outputs = new ArrayList<ReportResults.Output>();
        for (int i = 0; i < width; i++) {
          outputs.add(
              new ReportResults.Output("item_" + i, layout(pipeline + " item " + i, bytes)));
        }
        state.apply(1, ++index, results(List.of(report(seed, outputs, log, clock))));
        var assignments = new ArrayList<AssignTasks.Assignment>();
        var reports = new ArrayList<ReportResults.Report>();
        for (long t = firstTask + 1; t <= firstTask + width; t++) {
          assignments.add(new AssignTasks.Assignment(t, 1, "n1"));
          reports.add(
              report(
                  t,
                  List.of(
                      new ReportResults.Output("upper", layout(pipeline + " UPPER " + t, bytes))),
                  log,
                  clock));
        }
        state.apply(1, ++index, new AssignTasks(clock, assignments));
        state.apply(1, ++index, results(reports));
        tasks += width + 1;
        if (bytes.size() >= 100_000 || p == pipelines - 1) {
          chunks.putAll(bytes); // one synced write per 100,000 chunks, not per run
          bytes.clear();
        }
        clock += 60_000;
      }
    }
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
        var s = c.createStatement()) {
      s.execute("UPDATE meta SET applied_term = 0, applied_index = 0");
      // A node that lived through this history has checked its chunks up to here.
      try (var rs = s.executeQuery("SELECT COALESCE(MAX(rowid), 0) FROM object")) {
        rs.next();
        Files.writeString(
            dir.resolve("objects").resolve("repaired-up-to"), Long.toString(rs.getLong(1)));
      }
    }
    System.out.printf(
        "record of %d finished tasks in %d runs built in %.1f s%n",
        tasks, pipelines, (System.nanoTime() - t0) / 1e9);
  }

  private static long taskIdOfLast(SqlState state, String pipeline) {
    var run = state.queries().runs(1).get(0);
    if (!run.pipeline().equals(pipeline)) {
      throw new IllegalStateException("unexpected run " + run);
    }
    return state.queries().pending(1).stream()
        .filter(t -> t.runId() == run.id())
        .findFirst()
        .orElseThrow()
        .taskId();
  }

  private static ObjectLayout layout(String content, List<ChunkStore.Chunk> bytes) {
    byte[] data = content.getBytes(StandardCharsets.UTF_8);
    ObjectLayout layout = ObjectLayout.of(data);
    bytes.add(new ChunkStore.Chunk(layout.digest(), ByteBuffer.wrap(data)));
    return layout;
  }

  private static Step step(String name, String script, List<String> inputs) {
    return new Step(
        name,
        script,
        inputs,
        Step.UNLIMITED,
        0,
        Step.DEFAULT_RETRY_BACKOFF,
        Duration.ZERO,
        Map.of(),
        0,
        1);
  }

  private static ReportResults.Report report(
      long task, List<ReportResults.Output> outputs, ObjectLayout log, long at) {
    return new ReportResults.Report(task, 1, "n1", 0, null, outputs, log, at - 10, at, 0);
  }

  private static Command results(List<ReportResults.Report> reports) {
    return new ReportResults(reports);
  }
}
