package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.SqlState;
import dev.grit.consensus.state.StateQueries;
import dev.grit.consensus.state.TaskState;
import dev.grit.node.LogPrinter;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit logs TASK [-f]}: the stdout/stderr tail of each attempt of a task, from a server when
 * one is named (and {@code --db} is not), else from the local data directory. With {@code -f}, it
 * goes on until the task ends, and the exit status is the task's outcome: each ended attempt's log
 * is printed once; from a server, the running attempt's output is printed as it comes (read from
 * the byte where the last read stopped), from a data directory once the attempt ended (no other
 * process's worker can be asked there).
 */
@Command(
    name = "logs",
    description = {
      "Print the output (stdout and stderr, last 64 KiB) of each attempt of TASK.",
      "With -f, follow the task until it ends: each ended attempt's output is printed, and the"
          + " running attempt's output as it comes; exit 0 if the task succeeded, 1 if it failed or"
          + " was cancelled.",
      "With --db instead of a server, a running attempt's output is printed once it ends: only"
          + " the node that runs it can read it before."
    },
    mixinStandardHelpOptions = true)
final class LogsCommand implements Callable<Integer> {
  /** How often -f reads the task again. */
  private static final long POLL_MILLIS = 250;

  @Parameters(index = "0", paramLabel = "TASK")
  long taskId;

  @Option(
      names = {"-f", "--follow"},
      description = "Follow the task until it ends, printing the running attempt's output as it comes.")
  boolean follow;

  @Mixin DbOption db;
  @Mixin ServerOption server;
  @Spec CommandSpec spec;

  /** What -f needs of a task, from a server or from the local record. */
  interface Source {
    /** The task's state, or null when there is no such task. */
    TaskState state() throws Exception;

    /** Each attempt's number, node and whether it is still running, in order. */
    List<Attempt> attempts() throws Exception;

    /** Prints attempt {@code n}'s header and log. */
    void print(int n, PrintStream out) throws Exception;

    /**
     * Attempt {@code n}'s output from byte {@code from}, running or ended; null when this source
     * cannot read a running attempt's output.
     */
    Part read(int n, long from) throws Exception;
  }

  record Attempt(int n, String node, boolean running) {}

  /**
   * Output from a byte offset: {@code next} is where the next read starts, {@code running} whether
   * more may come, {@code skipped} whether bytes were lost (they left the stored tail).
   */
  record Part(byte[] bytes, long next, boolean running, boolean skipped) {}

  @Override
  public Integer call() throws Exception {
    if (server.remote(spec)) {
      ApiClient client = server.client();
      if (!follow) {
        System.out.print(ApiClient.check(client.get("/v1/tasks/" + taskId + "/log")).text());
        System.out.flush();
        return Main.OK;
      }
      return follow(remote(client), System.out);
    }
    try (var queries = SqlState.openReadOnly(db.stateFile());
        var chunks = ChunkStore.openReadOnly(db.objects())) {
      if (queries.task(taskId).isEmpty()) {
        System.err.println("grit: no task " + taskId);
        return Main.FAILED;
      }
      var printer = new LogPrinter(() -> queries, chunks);
      if (!follow) {
        printer.printAll(taskId, System.out);
        return Main.OK;
      }
      return follow(local(queries), System.out);
    }
  }

  /**
   * Prints each ended attempt once and the running one as its output comes (or, from a source that
   * cannot read it, once it ended), until the task ends; returns the exit status of its outcome.
   */
  int follow(Source source, PrintStream out) throws Exception {
    int printed = 0; // attempts printed, in order
    int announced = 0; // the attempt whose header says "running", followed from byte offset
    long offset = 0;
    while (true) {
      TaskState state = source.state();
      if (state == null) {
        System.err.println("grit: no task " + taskId);
        return Main.FAILED;
      }
      List<Attempt> attempts = source.attempts();
      for (Attempt a : attempts.subList(Math.min(printed, attempts.size()), attempts.size())) {
        if (a.running() && a.n() != announced) {
          out.printf("== attempt %d on %s: running%n", a.n(), a.node());
          out.flush();
          announced = a.n();
          offset = 0;
        }
        Part part = a.n() == announced ? source.read(a.n(), offset) : null;
        if (part == null) {
          if (a.running()) {
            break;
          }
          source.print(a.n(), out); // header and stored log
        } else {
          if (part.skipped()) {
            System.err.printf(
                "grit: attempt %d: some output left the 64 KiB tail before it was read;"
                    + " what follows may skip or repeat lines%n",
                a.n());
          }
          out.write(part.bytes());
          out.flush();
          offset = part.next();
          if (part.running()) {
            break;
          }
        }
        printed++;
      }
      boolean ended =
          state == TaskState.SUCCEEDED || state == TaskState.FAILED || state == TaskState.CANCELLED;
      if (ended && printed == attempts.size()) {
        return state == TaskState.SUCCEEDED ? Main.OK : Main.FAILED;
      }
      Thread.sleep(POLL_MILLIS);
    }
  }

  private Source remote(ApiClient client) {
    return new Source() {
      private JsonNode task;

      @Override
      public TaskState state() throws ClientException {
        ApiClient.Response r = client.get("/v1/tasks/" + taskId);
        if (r.status() == 404) {
          return null;
        }
        task = ApiClient.check(r).json();
        return TaskState.valueOf(task.path("state").asText());
      }

      @Override
      public List<Attempt> attempts() {
        var out = new ArrayList<Attempt>();
        for (JsonNode a : task.path("attempts")) {
          out.add(
              new Attempt(
                  a.path("n").asInt(),
                  a.path("node").asText(),
                  a.path("outcome").asText().equals(AttemptOutcome.RUNNING.name())));
        }
        return out;
      }

      @Override
      public void print(int n, PrintStream out) throws Exception {
        String path = "/v1/tasks/" + taskId + "/log?attempt=" + n;
        ApiClient.Response r = client.get(path);
        // The log's chunks may reach this member a moment after the attempt's end did.
        for (int tries = 0; r.status() == 503 && tries < 40; tries++) {
          Thread.sleep(POLL_MILLIS);
          r = client.get(path);
        }
        out.print(ApiClient.check(r).text());
        out.flush();
      }

      @Override
      public Part read(int n, long from) throws Exception {
        String path = "/v1/tasks/" + taskId + "/log?attempt=" + n + "&from=" + from;
        HttpResponse<byte[]> r = client.stream(path, HttpResponse.BodyHandlers.ofByteArray());
        // An ended attempt's log may reach this member a moment after its end did.
        for (int tries = 0; r.statusCode() == 503 && tries < 40; tries++) {
          Thread.sleep(POLL_MILLIS);
          r = client.stream(path, HttpResponse.BodyHandlers.ofByteArray());
        }
        ApiClient.check(new ApiClient.Response(r.statusCode(), r.body(), r.uri()));
        var h = r.headers();
        return new Part(
            r.body(),
            h.firstValueAsLong("Grit-Log-Offset").orElse(from + r.body().length),
            h.firstValue("Grit-Log-Running").map("true"::equals).orElse(false),
            h.firstValue("Grit-Log-Skipped").isPresent());
      }
    };
  }

  private Source local(StateQueries queries) {
    return new Source() {
      @Override
      public TaskState state() {
        return queries.task(taskId).map(StateQueries.TaskSpec::state).orElse(null);
      }

      @Override
      public List<Attempt> attempts() {
        return queries.attempts(taskId).stream()
            .map(a -> new Attempt(a.n(), a.node(), a.outcome() == AttemptOutcome.RUNNING))
            .toList();
      }

      @Override
      public void print(int n, PrintStream out) throws IOException {
        // A read-only RocksDB sees the store as it was when opened: a log stored since (the
        // attempt ended after this command started) needs the store opened again.
        try (var chunks = ChunkStore.openReadOnly(db.objects())) {
          new LogPrinter(() -> queries, chunks).printAttempt(taskId, n, out);
        }
      }

      @Override
      public Part read(int n, long from) {
        return null; // only the worker running it can; it is in another process
      }
    };
  }
}
