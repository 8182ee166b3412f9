package dev.grit.node.work;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

  /**
   * A member whose record lags still shows an attempt assigned here after the attempt ended and
   * the others committed its report: reconciling with that record must not run it again.
   */
  @Test
  void anAttemptThatEndedIsNotRunAgainWhileThisMembersRecordLags(@TempDir Path dir) throws Exception {
    Path runs = dir.resolve("runs");
    Path go = dir.resolve("go");
    String script =
        "echo run >> '" + runs + "'; while [ ! -e '" + go + "' ]; do sleep 0.05; done; "
            + "echo hi > \"$OUTPUT_DIR/out\"";
    var ref = new StateEvent.AttemptRef(1, 1, "w");
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int lagging = c.followers().get(0);
          var leader = c.leader();
          leader.submit(submit("r1", "pipe", 1000, step("a", script))).get(60, SECONDS);
          try (Worker worker = worker(c, lagging, dir, 1)) {
            leader.submit(assign(1100, 1, 1, "w")).get(60, SECONDS);
            c.awaitConverged();
            worker.accept(List.of(assigned(1, 1)));
            Wait.until("the attempt to start", LIMIT, () -> Files.exists(runs));
            try (var held = c.holdApply(lagging)) {
              // An entry that tells of events: the member stops after it, before the report.
              leader.submit(submit("r2", "other", 1200, step("b", "true"))).get(60, SECONDS);
              Files.createFile(go);
              Wait.until(
                  "the report to be committed",
                  LIMIT,
                  () -> stateAt(c, c.leaderIndex(), 1) == TaskState.SUCCEEDED);
              Wait.until("the worker to let the attempt go", LIMIT, () -> !worker.holds(ref));
              assertEquals(TaskState.ASSIGNED, stateAt(c, lagging, 1), "the member's record lags");
              worker.reconcile();
              assertFalse(worker.holds(ref), "the attempt that ended was queued again");
            }
            c.awaitConverged();
            worker.reconcile();
            assertFalse(worker.holds(ref));
          }
          assertEquals(List.of("run"), Files.readAllLines(runs));
        });
  }

  private static StateEvent assigned(long task, int attempt) {
    return new StateEvent.AttemptsAssigned(List.of(new StateEvent.AttemptRef(task, attempt, "w")));
  }

  private static TaskState state(MiniCluster c, long task) {
    return stateAt(c, 0, task);
  }

  private static TaskState stateAt(MiniCluster c, int member, long task) {
    return c.stateMachine(member).queries().task(task).orElseThrow().state();
  }

  private static Worker worker(MiniCluster c, Path dir, int slots) throws Exception {
    return worker(c, c.leaderIndex(), dir, slots);
  }

  /** Worker "w", beside member {@code member}: it reads that member's record and proposes through it. */
  private static Worker worker(MiniCluster c, int member, Path dir, int slots) throws Exception {
    Path work = dir.resolve("work");
    var clock = InstantSource.system();
    var runner = new TaskRunner(OutputDir.open(work, OutputMode.PLAIN), work, clock);
    var fetcher = new ChunkFetcher("w", c.stateMachine(member)::queries, c.chunks(member), c.tls(member));
    var worker = new Worker("w", slots, c.node(member), runner, fetcher, work, clock);
    worker.recover();
    worker.start();
    return worker;
  }
}
