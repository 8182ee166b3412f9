package dev.grit.node.cli;

import dev.grit.node.LogPrinter;
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
          out.println(ProgressLines.lost(l.taskId(), l.attempt(), l.reason()));
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
    if (level == Level.QUIET) {
      return;
    }
    var task = queries.get().task(a.taskId());
    out.println(
        ProgressLines.ended(
            a.step(),
            a.taskId(),
            task.map(this::input).orElse(null),
            a.taskState() == TaskState.SUCCEEDED,
            a.taskState() == TaskState.PENDING,
            a.attempt(),
            a.error(),
            a.durationMillis(),
            a.outputs()));
    if (level == Level.VERBOSE) {
      logs.printLastAttempt(a.taskId(), out, "      | ");
    }
  }

  /** What the line shows of the task's input: its name, or how many a gather task took. */
  private String input(dev.grit.consensus.state.StateQueries.TaskSpec t) {
    return t.step().gather() ? queries.get().inputs(t.taskId()).size() + " inputs" : t.inputName();
  }

  static String millis(long ms) {
    return ProgressLines.millis(ms);
  }


}
