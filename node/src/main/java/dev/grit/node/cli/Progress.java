package dev.grit.node.cli;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.StateQueries;
import dev.grit.consensus.state.TaskState;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** Prints a run's progress, one line per change, until it ends. */
final class Progress implements Consumer<List<StateEvent>> {
  enum Level {
    QUIET,
    NORMAL,
    VERBOSE
  }

  private final BlockingQueue<StateEvent> events = new LinkedBlockingQueue<>();
  private final PrintStream out;
  private final Level level;
  private final Supplier<StateQueries> queries;
  private final LogPrinter logs;
  private int succeeded;
  private int failedAttempts;

  Progress(PrintStream out, Level level, Supplier<StateQueries> queries, LogPrinter logs) {
    this.out = out;
    this.level = level;
    this.queries = queries;
    this.logs = logs;
  }

  @Override
  public void accept(List<StateEvent> batch) {
    events.addAll(batch);
  }

  /** Follows run {@code runId} until it ends; returns how it ended. */
  RunState follow(long runId) throws InterruptedException {
    while (true) {
      StateEvent e = events.poll(500, TimeUnit.MILLISECONDS);
      if (e == null) {
        // Nothing for a while: the record is the authority on whether the run is over.
        var run = queries.get().run(runId);
        if (run.isPresent() && run.get().state().isFinal() && events.isEmpty()) {
          return run.get().state();
        }
        continue;
      }
      if (e instanceof StateEvent.AttemptEnded a && a.runId() == runId) {
        print(a);
      } else if (e instanceof StateEvent.AttemptLost l && l.runId() == runId) {
        if (level != Level.QUIET) {
          out.printf("  ! task %d attempt %d lost: %s; retrying%n", l.taskId(), l.attempt(), l.reason());
        }
      } else if (e instanceof StateEvent.RunEnded r && r.runId() == runId) {
        drain(runId);
        return r.state();
      }
    }
  }

  private void drain(long runId) {
    StateEvent e;
    while ((e = events.poll()) != null) {
      if (e instanceof StateEvent.AttemptEnded a && a.runId() == runId) {
        print(a);
      }
    }
  }

  private void print(StateEvent.AttemptEnded a) {
    if (a.taskState() == TaskState.SUCCEEDED) {
      succeeded++;
    } else {
      failedAttempts++;
    }
    if (level == Level.QUIET) {
      return;
    }
    var task = queries.get().task(a.taskId());
    String input = task.map(t -> t.inputName() == null ? "" : " (" + t.inputName() + ")").orElse("");
    if (a.taskState() == TaskState.SUCCEEDED) {
      out.printf(
          "  ✓ %s #%d%s %s%s%n",
          a.step(),
          a.taskId(),
          input,
          millis(a.durationMillis()),
          a.outputs().isEmpty() ? "" : " → " + String.join(", ", abbreviate(a.outputs())));
    } else {
      String next = a.taskState() == TaskState.PENDING ? "will retry" : "failed";
      out.printf(
          "  ✗ %s #%d%s attempt %d: %s; %s%n",
          a.step(), a.taskId(), input, a.attempt(), a.error(), next);
    }
    if (level == Level.VERBOSE) {
      logs.printLastAttempt(a.taskId(), out, "      | ");
    }
  }

  private static List<String> abbreviate(List<String> names) {
    if (names.size() <= 5) {
      return names;
    }
    return List.of(
        names.get(0), names.get(1), names.get(2), "… " + (names.size() - 3) + " more");
  }

  static String millis(long ms) {
    return ms < 1000 ? ms + "ms" : String.format("%.2fs", ms / 1000.0);
  }

  int succeeded() {
    return succeeded;
  }

  int failedAttempts() {
    return failedAttempts;
  }
}
