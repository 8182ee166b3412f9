package dev.grit.consensus.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.PendingTask;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Apply is a pure function of (record, command): random but plausible command sequences applied to
 * separate records give identical records, also across a close and reopen in the middle. The
 * sequences raise the rules to those of gather steps partway, so both the refusal of gather steps
 * and their barrier, sets and tasks are covered.
 */
class DeterminismTest {
  private static final int SEEDS = 20;
  private static final int COMMANDS = 300;
  private static final int COMPARE_EVERY = 25;
  private static final List<String> NODES = List.of("n1", "n2", "n3");
  private static final List<String> OUTPUT_NAMES =
      List.of("chunk_1", "chunk_2", "chunk_3", "parts/a", "parts/b/c", "loop", "other", "log.txt");
  private static final List<String> CONTENTS = List.of("", "a", "b", "ab", "hello\n", "0123456789");

  @TempDir Path dir;

  /** What the generated sequences reached, over all seeds: proof that they exercise the rules. */
  private final Map<String, Long> reached = new java.util.TreeMap<>();

  @Test
  void replicasApplyingTheSameCommandsHoldTheSameRecord() throws Exception {
    long baseSeed = Long.getLong("grit.determinism.seed", 0x5EED_2024L);
    for (int k = 0; k < SEEDS; k++) {
      long seed = baseSeed + k;
      try {
        checkSeed(seed, dir.resolve("seed-" + seed));

      } catch (AssertionError | Exception e) {
        throw new AssertionError(
            "determinism broken for seed "
                + seed
                + " (rerun with -Dgrit.determinism.seed="
                + seed
                + "): "
                + e.getMessage(),
            e);
      }
    }
    for (String what :
        List.of(
            "task SUCCEEDED",
            "task FAILED",
            "task CANCELLED",
            "task PENDING",
            "run SUCCEEDED",
            "run FAILED",
            "run CANCELLED",
            "run SUPERSEDED",
            "resources",
            "stale reports",
            "gc runs",
            "gc resources",
            "gc chunks",
            "gc refused",
            "tasks retried",
            "retries refused",
            "gather task SUCCEEDED",
            "gather task FAILED",
            "runs whose gather steps a failure held back",
            "gather inputs",
            "submissions refused for their rules")) {
      assertTrue(
          reached.getOrDefault(what, 0L) > 0, () -> "no sequence reached " + what + ": " + reached);
    }
  }

  private void record(StateQueries view) {
    for (var run : view.runs(10_000)) {
      reached.merge("run " + run.state(), 1L, Long::sum);
      if (run.reason() != null) {
        reached.merge("runs whose gather steps a failure held back", 1L, Long::sum);
      }
      run.tasks().forEach((state, n) -> reached.merge("task " + state, (long) n, Long::sum));
    }
    reached.merge("resources", (long) view.resources("main").size(), Long::sum);
    reached.merge("stale reports", view.counter("stale_reports"), Long::sum);
    for (long id = 1; ; id++) {
      var task = view.task(id);
      if (task.isEmpty()) {
        break;
      }
      if (task.get().step().gather()) {
        reached.merge("gather task " + task.get().state(), 1L, Long::sum);
        reached.merge("gather inputs", (long) view.inputs(id).size(), Long::sum);
      }
    }
  }

  private void checkSeed(long seed, Path root) throws Exception {
    var gen = new Generator(new Random(seed));
    Path reopenedFile = root.resolve("c.db");
    SqlState a = SqlState.open(root.resolve("a.db"));
    SqlState b = SqlState.open(root.resolve("b.db"));
    SqlState c = SqlState.open(reopenedFile);
    var log = new ArrayList<Command>();
    try {
      for (int i = 1; i <= COMMANDS; i++) {
        Command command = gen.next(a.queries());
        log.add(command);
        long term = 1 + i / 100;
        ApplyResult ra = a.apply(term, i, command);
        ApplyResult rb = b.apply(term, i, command);
        ApplyResult rc = c.apply(term, i, command);
        assertEquals(ra.reply(), rb.reply(), () -> "reply to " + command);
        assertEquals(ra.reply(), rc.reply(), () -> "reply to " + command);
        assertEquals(ra.events(), rb.events(), () -> "events of " + command);
        if (ra.reply() instanceof Reply.Collected collected) {
          reached.merge("gc runs", (long) collected.runs(), Long::sum);
          reached.merge("gc resources", (long) collected.resources(), Long::sum);
          reached.merge("gc chunks", (long) collected.chunks(), Long::sum);
        } else if (ra.reply() instanceof Reply.GcNotYet) {
          reached.merge("gc refused", 1L, Long::sum);
        } else if (ra.reply() instanceof Reply.TasksRetried retried && retried.tasks() > 0) {
          reached.merge("tasks retried", (long) retried.tasks(), Long::sum);
        } else if (ra.reply() instanceof Reply.RetryRefused) {
          reached.merge("retries refused", 1L, Long::sum);
        } else if (ra.reply() instanceof Reply.SubmissionRefused) {
          reached.merge("submissions refused for their rules", 1L, Long::sum);
        }

        if (i == COMMANDS / 2) {
          // A restart: the third record is closed and opened again, and the last few entries
          // are delivered once more, as Raft does after a crash; they must be skipped.
          c.close();
          c = SqlState.open(reopenedFile);
          for (int j = Math.max(1, i - 5); j <= i; j++) {
            assertTrue(c.apply(term, j, log.get(j - 1)).skipped(), "replayed entry " + j);
          }
        }
        if (i % COMPARE_EVERY == 0 || i == COMMANDS) {
          String dump = a.dump();
          int at = i;
          assertEquals(dump, b.dump(), () -> "records differ after command " + at);
          assertEquals(dump, c.dump(), () -> "reopened record differs after command " + at);
        }
      }
      record(a.queries());
    } finally {
      a.close();
      b.close();
      c.close();
    }
  }

  /** Random commands that a leader, workers and clients could plausibly propose. */
  private static final class Generator {
    private final Random random;
    private long clock = 1_000_000;
    private int submissions;
    private int gcs;
    private int retries;
    private final List<String> requestIds = new ArrayList<>();

    Generator(Random random) {
      this.random = random;
    }

    Command next(StateQueries view) {
      clock += 1 + random.nextInt(5_000);
      int roll = random.nextInt(100);
      if (submissions == 0 || roll < 8) {
        return submit();
      }
      if (roll == 99 || (submissions > 3 && roll == 98)) {
        // The rules that plan gather steps: raised some time into the sequence, once or again.
        return new RaiseRulesVersion(RulesVersion.GATHER, clock);
      }
      if (roll < 40) {
        Command c = assign(view);
        if (c != null) {
          return c;
        }
      }
      if (roll < 80) {
        Command c = report(view);
        if (c != null) {
          return c;
        }
      }
      if (roll < 86) {
        return staleReport(view);
      }
      if (roll < 93) {
        Command c = expire(view);
        if (c != null) {
          return c;
        }
      }
      if (roll < 95) {
        return new CancelRun(1 + random.nextInt(submissions + 1), clock);
      }
      if (roll < 96) {
        // Retries of a run or one task, first under older rules (refused), then raised.
        if (retries++ == 1) {
          return new RaiseRulesVersion(RulesVersion.RETRY, clock);
        }
        long task = random.nextInt(3) == 0 ? 1 + random.nextInt(40) : RetryTasks.ALL;
        return new RetryTasks(1 + random.nextInt(submissions + 1), task, clock);
      }
      if (roll < 97) {
        return new PutChunks(List.of(new PutChunks.Chunk(ObjectLayout.of(content()).digest(), 3)));
      }
      if (roll < 98) {
        // Retention once in a while, first under the initial rules (refused), then raised to the
        // rules that also collect loose chunks.
        if (gcs++ == 1) {
          return new RaiseRulesVersion(RulesVersion.LOOSE_CHUNKS, clock);
        }
        return new Gc(clock - random.nextInt(300_000), clock);
      }
      return submit();
    }

    private SubmitRun submit() {
      submissions++;
      String requestId;
      if (!requestIds.isEmpty() && random.nextInt(10) == 0) {
        requestId = requestIds.get(random.nextInt(requestIds.size())); // a client retry
      } else {
        requestId = "req-" + submissions;
        requestIds.add(requestId);
      }
      String pipeline = random.nextInt(4) == 0 ? "other" : "main";
      var steps = new ArrayList<Step>();
      // Script variants: submitting another one is an edit, an earlier one a revert.
      steps.add(step("gen", "gen v" + random.nextInt(3)));
      if (random.nextInt(5) > 0) {
        steps.add(step("map", "map v" + random.nextInt(2), "chunk_*"));
      }
      if (random.nextInt(3) > 0) {
        steps.add(step("deep", "deep v" + random.nextInt(2), "parts/**"));
      }
      if (random.nextInt(4) == 0) {
        steps.add(step("loop", "loop", "loop"));
      }
      if (random.nextInt(6) == 0) {
        steps.add(step("second", "second start v" + random.nextInt(2)));
      }
      // Gather steps (refused while the record follows the first rules): over the chunks, over
      // what the map and the loop publish, and one over another's output, listed before it.
      if (random.nextInt(3) == 0) {
        steps.add(gather("sum", "sum v" + random.nextInt(2), "chunk_*", "parts/**"));
      }
      if (random.nextInt(4) == 0) {
        steps.add(1, gather("early", "early", "other"));
      }
      if (random.nextInt(4) == 0) {
        steps.add(gather("all", "all", "loop", "log.txt", "other"));
      }
      String start = random.nextInt(10) == 0 ? "gen" : null;
      List<String> only = random.nextInt(10) == 0 ? List.of("gen", "map") : List.of();
      return new SubmitRun(
          requestId,
          pipeline,
          pipeline + ".toml",
          "manifest " + submissions,
          steps,
          clock,
          start,
          only,
          random.nextInt(3));
    }

    private Step step(String name, String script, String... inputs) {
      return step(name, script, false, inputs);
    }

    private Step gather(String name, String script, String... inputs) {
      return step(name, script, true, inputs);
    }

    private Step step(String name, String script, boolean gather, String... inputs) {
      return new Step(
          name,
          script,
          List.of(inputs),
          gather,
          random.nextBoolean() ? Step.UNLIMITED : 1 + random.nextInt(3),
          random.nextInt(3),
          Duration.ofMillis(100 + random.nextInt(2_000)),
          Duration.ZERO,
          random.nextInt(5) == 0 ? Map.of("MODE", "fast") : Map.of(),
          random.nextInt(3),
          1);
    }

    private AssignTasks assign(StateQueries view) {
      List<PendingTask> pending = view.pending(20);
      if (pending.isEmpty()) {
        return null;
      }
      var chosen = new ArrayList<AssignTasks.Assignment>();
      int n = 1 + random.nextInt(Math.min(4, pending.size()));
      for (int i = 0; i < n; i++) {
        PendingTask p = pending.get(random.nextInt(pending.size()));
        // Now and then a decision made on an older view: a wrong attempt number or a duplicate.
        int attempt = random.nextInt(15) == 0 ? p.nextAttempt() + 1 : p.nextAttempt();
        chosen.add(new AssignTasks.Assignment(p.taskId(), attempt, node()));
      }
      return new AssignTasks(clock, chosen);
    }

    private List<AttemptRef> assigned(StateQueries view) {
      var all = new ArrayList<AttemptRef>();
      for (String node : NODES) {
        all.addAll(view.assignedTo(node));
      }
      return all;
    }

    private ReportResults report(StateQueries view) {
      List<AttemptRef> running = assigned(view);
      if (running.isEmpty()) {
        return null;
      }
      var reports = new ArrayList<ReportResults.Report>();
      int n = 1 + random.nextInt(Math.min(3, running.size()));
      for (int i = 0; i < n; i++) {
        AttemptRef a = running.get(random.nextInt(running.size()));
        reports.add(random.nextInt(4) == 0 ? failed(a) : succeeded(a));
      }
      return new ReportResults(reports);
    }

    private ReportResults.Report succeeded(AttemptRef a) {
      var outputs = new ArrayList<ReportResults.Output>();
      int n = random.nextInt(4);
      for (int i = 0; i < n; i++) {
        String name = OUTPUT_NAMES.get(random.nextInt(OUTPUT_NAMES.size()));
        outputs.add(new ReportResults.Output(name, ObjectLayout.of(content())));
      }
      return new ReportResults.Report(
          a.taskId(),
          a.attempt(),
          a.node(),
          0,
          null,
          outputs,
          ObjectLayout.of(content()),
          clock - random.nextInt(1_000),
          clock,
          random.nextInt(1000));
    }

    private ReportResults.Report failed(AttemptRef a) {
      return new ReportResults.Report(
          a.taskId(),
          a.attempt(),
          a.node(),
          1 + random.nextInt(3),
          "exit " + random.nextInt(3),
          List.of(),
          ObjectLayout.of(content()),
          clock - random.nextInt(1_000),
          clock,
          random.nextInt(1000));
    }

    /** A report no current attempt matches: wrong attempt, wrong node, or no such task. */
    private ReportResults staleReport(StateQueries view) {
      List<AttemptRef> running = assigned(view);
      AttemptRef a =
          running.isEmpty()
              ? new AttemptRef(1 + random.nextInt(50), 1, node())
              : running.get(random.nextInt(running.size()));
      AttemptRef stale =
          switch (random.nextInt(3)) {
            case 0 -> new AttemptRef(a.taskId(), a.attempt() + 1, a.node());
            case 1 -> new AttemptRef(a.taskId(), Math.max(0, a.attempt() - 1), a.node());
            default -> new AttemptRef(a.taskId(), a.attempt(), "gone-" + a.node());
          };
      return new ReportResults(List.of(random.nextBoolean() ? succeeded(stale) : failed(stale)));
    }

    private ExpireAttempts expire(StateQueries view) {
      List<AttemptRef> running = assigned(view);
      if (running.isEmpty()) {
        return null;
      }
      AttemptRef a = running.get(random.nextInt(running.size()));
      int attempt = random.nextInt(10) == 0 ? a.attempt() + 1 : a.attempt();
      return new ExpireAttempts(
          clock,
          List.of(new ExpireAttempts.Expiry(a.taskId(), attempt, "node " + a.node() + " silent")));
    }

    private String node() {
      return NODES.get(random.nextInt(NODES.size()));
    }

    private byte[] content() {
      return CONTENTS.get(random.nextInt(CONTENTS.size())).getBytes(StandardCharsets.UTF_8);
    }
  }
}
