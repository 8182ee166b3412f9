package dev.grit.node;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.StateQueries;
import dev.grit.consensus.state.StateQueries.AttemptInfo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * Prints the stored stdout/stderr tails of a task's attempts: the format of {@code grit logs},
 * shared by the local command and the HTTP API. Reads the record and the object store it is given;
 * thread-safe when they are.
 */
public final class LogPrinter {
  private final Supplier<StateQueries> queries;
  private final ChunkStore chunks;

  public LogPrinter(Supplier<StateQueries> queries, ChunkStore chunks) {
    this.queries = queries;
    this.chunks = chunks;
  }

  /**
   * Each attempt's header line, then its stored log tail.
   *
   * @throws IOException when a log object is unknown or its bytes cannot be read here
   */
  public void printAll(long taskId, PrintStream out) throws IOException {
    for (AttemptInfo a : queries.get().attempts(taskId)) {
      print(a, out);
    }
    out.flush();
  }

  /**
   * Attempt {@code n}'s header line and stored log tail, as {@link #printAll} prints it; false
   * when the task has no such attempt.
   *
   * @throws IOException when its log object is unknown or its bytes cannot be read here
   */
  public boolean printAttempt(long taskId, int n, PrintStream out) throws IOException {
    for (AttemptInfo a : queries.get().attempts(taskId)) {
      if (a.n() == n) {
        print(a, out);
        out.flush();
        return true;
      }
    }
    return false;
  }

  private void print(AttemptInfo a, PrintStream out) throws IOException {
    out.printf(
        "== attempt %d on %s: %s%s%n",
        a.n(),
        a.node(),
        a.outcome().name().toLowerCase(java.util.Locale.ROOT),
        a.error() == null ? "" : " (" + a.error() + ")");
    if (a.logHash() != null) {
      out.write(read(a));
    }
  }

  /** The stored log of the task's latest attempt, each line behind {@code prefix}. */
  public void printLastAttempt(long taskId, PrintStream out, String prefix) {
    List<AttemptInfo> attempts = queries.get().attempts(taskId);
    for (int i = attempts.size() - 1; i >= 0; i--) {
      AttemptInfo a = attempts.get(i);
      if (a.logHash() != null) {
        try {
          String text = new String(read(a), StandardCharsets.UTF_8);
          for (String line : text.split("\n")) {
            if (!line.isEmpty()) {
              out.println(prefix + line);
            }
          }
        } catch (IOException e) {
          out.println(prefix + "(log unreadable: " + e.getMessage() + ")");
        }
        return;
      }
    }
  }

  /** The stored log of attempt {@code a}, which must have one. */
  public byte[] read(AttemptInfo a) throws IOException {
    var layout =
        queries
            .get()
            .object(a.logHash())
            .orElseThrow(() -> new IOException("log object " + a.logHash() + " is unknown"));
    var bytes = new ByteArrayOutputStream();
    try (var in = chunks.open(layout)) {
      in.transferTo(bytes);
    }
    return bytes.toByteArray();
  }
}
