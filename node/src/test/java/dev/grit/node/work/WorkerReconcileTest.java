package dev.grit.node.work;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.execute.OutputDir;
import dev.grit.engine.execute.OutputMode;
import dev.grit.engine.execute.TaskRunner;
import dev.grit.node.objects.ChunkFetcher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker reconciles what it runs with what the record assigns to it. These workers are not
 * subscribed to the record's events: a replica that installed a snapshot is told none of the
 * entries it covers, and the leader expiring an attempt tells the worker nothing either.
 */
class WorkerReconcileTest {
  private static final Duration LIMIT = Duration.ofSeconds(30);

  @Test
  void anAssignmentThisNodeWasNeverToldOfStillRuns(@TempDir Path dir) throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          var raft = c.leader();
          raft.submit(submit("r1", "pipe", 1000, step("a", "echo hi > \"$OUTPUT_DIR/out\""))).get(60, SECONDS);
          try (Worker worker = worker(c, dir, 1)) {
            raft.submit(assign(1100, 1, 1, "w")).get(60, SECONDS);
            Wait.until("task 1 to succeed", LIMIT, () -> state(c, 1) == TaskState.SUCCEEDED, () -> "" + state(c, 1));
          }
        });
  }

  @Test
  void anAttemptTheRecordGaveAwayIsStoppedAndItsSlotFreed(@TempDir Path dir) throws Exception {
    Path marker = dir.resolve("first-attempt-started");
    // The first attempt would hold the only slot for ten minutes; the second finishes at once.
    String script =
        "if [ -e '" + marker + "' ]; then echo done > \"$OUTPUT_DIR/out\"; "
            + "else touch '" + marker + "'; exec sleep 600; fi";
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          var raft = c.leader();
          raft.submit(submit("r1", "pipe", 1000, step("a", script))).get(60, SECONDS);
          try (Worker worker = worker(c, dir, 1)) {
            raft.submit(assign(1100, 1, 1, "w")).get(60, SECONDS);
            worker.accept(List.of(assigned(1, 1)));
            Wait.until("the first attempt to start", LIMIT, () -> Files.exists(marker));
            // The leader gave up on this node (it looked silent) and hands the task to it again.
            raft.submit(new ExpireAttempts(1200, List.of(new ExpireAttempts.Expiry(1, 1, "node w is silent"))))
                .get(60, SECONDS);
            raft.submit(assign(1300, 1, 2, "w")).get(60, SECONDS);
            worker.accept(List.of(assigned(1, 2)));
            Wait.until("task 1 to succeed", LIMIT, () -> state(c, 1) == TaskState.SUCCEEDED, () -> "" + state(c, 1));
          }
          var attempts = c.stateMachine(0).queries().attempts(1);
          assertEquals(2, attempts.size(), attempts::toString);
          assertEquals(AttemptOutcome.LOST, attempts.get(0).outcome(), attempts::toString);
        });
  }

  @Test
  void anAttemptThatCannotStartHereGoesBackAsLostAndKeepsTheScriptsRetries(@TempDir Path dir)
      throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          var raft = c.leader();
          // No retries: a failed attempt would fail the task.
          raft.submit(submit("r1", "pipe", 1000, step("a", "true"))).get(60, SECONDS);
          try (Worker worker = worker(c, dir, 1)) {
            // No scratch directory can be made for any attempt: no process can start.
            Path scratch = dir.resolve("work").resolve("scratch");
            Files.delete(scratch);
            Files.writeString(scratch, "not a directory");
            raft.submit(assign(1100, 1, 1, "w")).get(60, SECONDS);
            worker.accept(List.of(assigned(1, 1)));
            Wait.until("task 1 to be given back", LIMIT, () -> state(c, 1) != TaskState.ASSIGNED);
          }
          assertEquals(TaskState.PENDING, state(c, 1), "the task waits to run elsewhere");
          var attempt = c.stateMachine(0).queries().attempts(1).get(0);
          assertEquals(AttemptOutcome.LOST, attempt.outcome(), attempt::toString);
          assertTrue(attempt.error().contains("could not start on w"), attempt::toString);
        });
  }

  private static StateEvent assigned(long task, int attempt) {
    return new StateEvent.AttemptsAssigned(List.of(new StateEvent.AttemptRef(task, attempt, "w")));
  }

  private static TaskState state(MiniCluster c, long task) {
    return c.stateMachine(0).queries().task(task).orElseThrow().state();
  }

  private static Worker worker(MiniCluster c, Path dir, int slots) throws Exception {
    Path work = dir.resolve("work");
    var clock = InstantSource.system();
    var runner = new TaskRunner(OutputDir.open(work, OutputMode.PLAIN), work, clock);
    var fetcher = new ChunkFetcher("w", c.stateMachine(0)::queries, c.chunks(0), c.tls(0));
    var worker = new Worker("w", slots, c.leader(), runner, fetcher, work, clock);
    worker.recover();
    worker.start();
    return worker;
  }
}
