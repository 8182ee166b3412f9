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
 * goes on until the task ends: each attempt's log is printed once the attempt ended and stored it,
 * and the exit status is the task's outcome.
 */
@Command(
    name = "logs",
    description = {
      "Print the output (stdout and stderr, last 64 KiB) of each attempt of TASK.",
      "With -f, follow the task until it ends: each attempt's output is printed once the attempt"
          + " ends; exit 0 if the task succeeded, 1 if it failed or was cancelled."
    },
    mixinStandardHelpOptions = true)
final class LogsCommand implements Callable<Integer> {
  /** How often -f reads the task again. */
  private static final long POLL_MILLIS = 250;

  @Parameters(index = "0", paramLabel = "TASK")
  long taskId;

  @Option(
      names = {"-f", "--follow"},
      description = "Follow the task until it ends, printing each attempt as it ends.")
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
  }

  record Attempt(int n, String node, boolean running) {}

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
   * Prints each attempt once it ended, and a line when one starts running, until the task ends;
   * returns the exit status of its outcome.
   */
  int follow(Source source, PrintStream out) throws Exception {
    int printed = 0; // attempts printed, in order
    int announced = 0; // the running attempt announced last
    while (true) {
      TaskState state = source.state();
      if (state == null) {
        System.err.println("grit: no task " + taskId);
        return Main.FAILED;
      }
      List<Attempt> attempts = source.attempts();
      for (Attempt a : attempts.subList(Math.min(printed, attempts.size()), attempts.size())) {
        if (a.running()) {
          if (a.n() != announced) {
            out.printf("== attempt %d on %s: running%n", a.n(), a.node());
            out.flush();
            announced = a.n();
          }
          break;
        }
        source.print(a.n(), out);
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
    };
  }
}
