package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.bytes;
import static dev.grit.consensus.testing.TestCommands.cancel;
import static dev.grit.consensus.testing.TestCommands.expire;
import static dev.grit.consensus.testing.TestCommands.failure;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static dev.grit.consensus.testing.TestCommands.withRetries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply.AttemptsExpired;
import dev.grit.consensus.state.Reply.ChunksStored;
import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.ReportsApplied;
import dev.grit.consensus.state.Reply.RunAlreadyEnded;
import dev.grit.consensus.state.Reply.RunCancelled;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply.TasksAssigned;
import dev.grit.consensus.state.StateQueries.ResourceRow;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.PendingTask;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The apply rules of the record, one test per rule, observed through {@link StateQueries}. */
class SqlStateTest {
  private static final String P = "pipe";
  private static final Step GEN = step("gen", "produce chunks");
  private static final Step MAP = step("map", "transform", "chunk_*");

  @TempDir Path dir;
  private SqlState state;
  private StateQueries q;
  private long index;
  private ApplyResult last;

  @BeforeEach
  void open() throws Exception {
    state = SqlState.open(dir.resolve("state.db"));
    q = state.queries();
  }

  @AfterEach
  void close() {
    state.close();
  }

  private ApplyResult apply(Command command) throws SQLException {
    last = state.apply(1, ++index, command);
    assertFalse(last.skipped(), "entry " + index + " was skipped");
    return last;
  }

  private Reply reply(Command command) throws SQLException {
    return apply(command).reply();
  }

  /** Every task of the record, by id. */
  private List<TaskSpec> tasks() {
    var out = new ArrayList<TaskSpec>();
    for (long id = 1; id < 500; id++) {
      q.task(id).ifPresent(out::add);
    }
    return out;
  }

  private List<TaskSpec> tasksOf(String stepName) {
    return tasks().stream().filter(t -> t.step().name().equals(stepName)).toList();
  }

  private TaskSpec task(long id) {
    return q.task(id).orElseThrow(() -> new AssertionError("no task " + id));
  }

  private static <T> T only(List<T> items) {
    assertEquals(1, items.size(), () -> "expected exactly one, got " + items);
    return items.get(0);
  }

  private StateQueries.RunView run(long id) {
    return q.run(id).orElseThrow(() -> new AssertionError("no run " + id));
  }

  private List<String> resourceNames() {
    return q.resources(P).stream().map(ResourceRow::name).toList();
  }

  /** Assigns the task's next attempt to {@code node} and reports it succeeded. */
  private void runToSuccess(
      long taskId, String node, long at, dev.grit.engine.command.ReportResults.Output... outputs)
      throws SQLException {
    int attempt = task(taskId).attempt() + 1;
    assertEquals(new TasksAssigned(1, 0), reply(assign(at, taskId, attempt, node)));
    assertEquals(
        new ReportsApplied(1, 0), reply(results(success(taskId, attempt, node, at + 10, outputs))));
  }

  private String dumpWithoutMeta() throws SQLException {
    String dump = state.dump();
    int start = dump.indexOf("== meta\n");
    int end = dump.indexOf("== ", start + 1);
    return dump.substring(0, start) + (end < 0 ? "" : dump.substring(end));
  }

  // ---- SubmitRun ---------------------------------------------------------------------------

  @Test
  void submissionCreatesTheRunAndOneSeedTaskPerStartStep() throws Exception {
    Step other = step("other", "another start step");

    assertEquals(new RunSubmitted(1), reply(submit("r1", P, 1000, GEN, MAP, other)));

    assertEquals(List.of(new StateEvent.RunSubmitted(1, P, 2)), last.events());
    var run = run(1);
    assertEquals(RunState.RUNNING, run.state());
    assertEquals(P, run.pipeline());
    assertEquals(1000, run.submittedAt());
    assertNull(run.finishedAt());
    assertEquals(2, run.count(TaskState.PENDING));
    List<TaskSpec> all = tasks();
    assertEquals(List.of("gen", "other"), all.stream().map(t -> t.step().name()).toList());
    for (TaskSpec t : all) {
      assertEquals(TaskState.PENDING, t.state());
      assertEquals(0, t.attempt());
      assertNull(t.inputName(), "a seed task has no input");
      assertNull(t.inputHash());
      assertEquals(1, t.runId());
      assertEquals(1, t.stepVersion());
    }
    assertEquals(List.of(1, 1), q.pending(10).stream().map(PendingTask::nextAttempt).toList());
  }

  @Test
  void theSameRequestIdTwiceMakesOneRun() throws Exception {
    assertEquals(new RunSubmitted(1), reply(submit("r1", P, 1000, GEN, MAP)));
    String before = dumpWithoutMeta();

    // Even with another manifest: the request was already applied.
    assertEquals(new RunSubmitted(1), reply(submit("r1", P, 2000, step("gen", "edited"))));

    assertEquals(List.of(new StateEvent.RunSubmitted(1, P, 0)), last.events());
    assertEquals(1, q.runs(10).size());
    assertEquals(before, dumpWithoutMeta());
  }

  @Test
  void submissionWithNothingToRunSucceedsAtOnce() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    runToSuccess(1, "n1", 2000);
    assertEquals(RunState.SUCCEEDED, run(1).state());

    assertEquals(new RunSubmitted(2), reply(submit("r2", P, 3000, GEN)));

    assertEquals(RunState.SUCCEEDED, run(2).state());
    assertEquals(3000L, run(2).finishedAt());
    assertEquals(1, tasks().size(), "nothing reruns");
  }

  @Test
  void resubmissionAdoptsTheActiveTasksOfEarlierRuns() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"));
    apply(assign(2100, 2, 1, "n1")); // one map task running, one pending

    assertEquals(new RunSubmitted(2), reply(submit("r2", P, 3000, GEN, MAP)));

    assertEquals(RunState.SUPERSEDED, run(1).state());
    assertEquals(2, run(2).count(TaskState.PENDING) + run(2).count(TaskState.ASSIGNED));
    assertEquals(List.of(2L, 2L), tasksOf("map").stream().map(TaskSpec::runId).toList());
    assertEquals(TaskState.ASSIGNED, task(2).state(), "the running attempt goes on");
    // ... and its report is accepted for the new run, which then ends.
    apply(results(success(2, 1, "n1", 3100)));
    runToSuccess(3, "n2", 3200);
    assertEquals(RunState.SUCCEEDED, run(2).state());
  }

  @Test
  void withAStartStepOnlyThatStepIsPlannedAtSubmission() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"));
    runToSuccess(2, "n1", 2100);

    Step other = step("other", "a new start step");
    Step map2 = step("map", "transform, edited", "chunk_*");
    apply(new SubmitRun("r2", P, "s", "m", List.of(GEN, other, map2), 3000, "map", List.of(), 0));

    var pending = tasks().stream().filter(t -> t.state() == TaskState.PENDING).toList();
    assertEquals("map", only(pending).step().name(), "the new start step is not planned");
    assertEquals("chunk_1", pending.get(0).inputName());
    assertEquals(2, pending.get(0).stepVersion());
  }

  @Test
  void withAStepFilterOnlyThoseStepsGetTasks() throws Exception {
    apply(new SubmitRun("r1", P, "s", "m", List.of(GEN, MAP), 1000, null, List.of("gen"), 0));

    runToSuccess(1, "n1", 2000, output("chunk_1", "a"));

    assertEquals(List.of(), tasksOf("map"), "map is not among the run's steps");
    assertEquals(RunState.SUCCEEDED, run(1).state());
  }

  // ---- AssignTasks -------------------------------------------------------------------------

  @Test
  void assignmentTakesOnlyPendingTasksWithTheNextAttemptNumber() throws Exception {
    apply(submit("r1", P, 1000, GEN, step("b", "other start")));

    assertEquals(
        new TasksAssigned(1, 2),
        reply(
            new AssignTasks(
                1100,
                List.of(
                    new AssignTasks.Assignment(1, 1, "n1"),
                    new AssignTasks.Assignment(2, 2, "n1"), // wrong attempt number
                    new AssignTasks.Assignment(77, 1, "n1"))))); // no such task

    assertEquals(
        List.of(new StateEvent.AttemptsAssigned(List.of(new StateEvent.AttemptRef(1, 1, "n1")))),
        last.events());
    TaskSpec t = task(1);
    assertEquals(TaskState.ASSIGNED, t.state());
    assertEquals(1, t.attempt());
    assertEquals("n1", t.node());
    var attempts = q.attempts(1);
    assertEquals(1, attempts.size());
    assertEquals(AttemptOutcome.RUNNING, attempts.get(0).outcome());
    assertEquals(1100, attempts.get(0).assignedAt());
    assertEquals(List.of(new StateEvent.AttemptRef(1, 1, "n1")), q.assignedTo("n1"));
    assertEquals(TaskState.PENDING, task(2).state());

    // A decision made on a stale view: already assigned.
    String before = dumpWithoutMeta();
    assertEquals(new TasksAssigned(0, 1), reply(assign(1200, 1, 1, "n2")));
    assertEquals(new TasksAssigned(0, 1), reply(assign(1200, 1, 2, "n2")));
    assertEquals(List.of(), last.events());
    assertEquals(before, dumpWithoutMeta());
  }

  // ---- ReportResults: success --------------------------------------------------------------

  @Test
  void successPublishesResourcesAndFansOutToMatchingSteps() throws Exception {
    Step count = step("count", "wc", "other");
    apply(submit("r1", P, 1000, GEN, MAP, count));
    apply(assign(1100, 1, 1, "n1"));

    var report =
        success(
            1,
            1,
            "n1",
            2000,
            output("chunk_1", "one"),
            output("chunk_2", "two"),
            output("chunk_3", "three"),
            output("other", "x"),
            output("unmatched", "y"));
    assertEquals(new ReportsApplied(1, 0), reply(results(report)));

    assertEquals(List.of("chunk_1", "chunk_2", "chunk_3", "other", "unmatched"), resourceNames());
    ResourceRow chunk1 = q.resourcesNamed("chunk_1", P).get(0);
    assertEquals(Digest.of(bytes("one")), chunk1.hash());
    assertEquals(3, chunk1.size());
    assertEquals(2000, chunk1.createdAt());
    assertEquals(1, chunk1.producerTask());
    assertEquals(Optional.of(ObjectLayout.of(bytes("one"))), q.object(Digest.of(bytes("one"))));
    assertEquals(TaskState.SUCCEEDED, task(1).state());
    var attempt = q.attempts(1).get(0);
    assertEquals(AttemptOutcome.SUCCEEDED, attempt.outcome());
    assertEquals(0, attempt.exitCode());
    assertEquals(1000L, attempt.startedAt());
    assertEquals(2000L, attempt.finishedAt());

    // One task per matching resource: three for map's glob, one for count's exact name.
    var mapTasks = tasksOf("map");
    assertEquals(
        List.of("chunk_1", "chunk_2", "chunk_3"),
        mapTasks.stream().map(TaskSpec::inputName).toList());
    assertEquals(Digest.of(bytes("two")), mapTasks.get(1).inputHash());
    assertEquals("other", only(tasksOf("count")).inputName());
    var ended = (StateEvent.AttemptEnded) last.events().get(0);
    assertEquals(4, ended.newTasks());
    assertEquals(List.of("chunk_1", "chunk_2", "chunk_3", "other", "unmatched"), ended.outputs());
    assertEquals(TaskState.SUCCEEDED, ended.taskState());
    assertEquals(RunState.RUNNING, run(1).state());
    assertEquals(4, run(1).count(TaskState.PENDING));
  }

  @Test
  void runSucceedsWhenNoTaskIsPendingOrAssigned() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"));
    runToSuccess(2, "n2", 3000, output("out_1", "A"));
    assertEquals(RunState.RUNNING, run(1).state());

    runToSuccess(3, "n1", 4000, output("out_2", "B"));

    assertEquals(RunState.SUCCEEDED, run(1).state());
    assertEquals(4010L, run(1).finishedAt());
    assertTrue(last.events().contains(new StateEvent.RunEnded(1, RunState.SUCCEEDED)));
    assertEquals(3, run(1).count(TaskState.SUCCEEDED));
    assertEquals(java.util.Map.of(1L, 1, 2L, 1, 3L, 1), q.successfulAttemptsByTask());
  }

  @Test
  void equalOutputBytesMakeNoNewDownstreamTask() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "same"), output("chunk_2", "old"));
    runToSuccess(2, "n1", 2100);
    runToSuccess(3, "n1", 2200);

    // A new version of gen reruns it; chunk_1 comes out with the same bytes, chunk_2 changes.
    apply(submit("r2", P, 3000, step("gen", "produce chunks, edited"), MAP));
    TaskSpec gen2 = only(tasks().stream().filter(t -> t.state() == TaskState.PENDING).toList());
    assertEquals(2, gen2.stepVersion());
    runToSuccess(gen2.taskId(), "n1", 4000, output("chunk_1", "same"), output("chunk_2", "new"));

    var ended = (StateEvent.AttemptEnded) last.events().get(0);
    assertEquals(1, ended.newTasks(), "only the changed chunk is processed again");
    assertEquals(1, q.resourcesNamed("chunk_1", P).size(), "equal bytes are one resource");
    assertEquals(2, q.resourcesNamed("chunk_2", P).size());
    var pending = tasksOf("map").stream().filter(t -> t.state() == TaskState.PENDING).toList();
    assertEquals(Digest.of(bytes("new")), only(pending).inputHash());
  }

  @Test
  void nestedOutputNamesMatchPathGlobs() throws Exception {
    Step oneLevel = step("one", "x", "parts/*");
    Step anyDepth = step("deep", "x", "parts/**");
    Step flat = step("flat", "x", "*");
    apply(submit("r1", P, 1000, GEN, oneLevel, anyDepth, flat));

    runToSuccess(
        1, "n1", 2000, output("parts/001", "1"), output("parts/sub/002", "2"), output("top", "3"));

    assertEquals(List.of("parts/001", "parts/sub/002", "top"), resourceNames());
    assertEquals(List.of("parts/001"), tasksOf("one").stream().map(TaskSpec::inputName).toList());
    assertEquals(
        List.of("parts/001", "parts/sub/002"),
        tasksOf("deep").stream().map(TaskSpec::inputName).toList());
    assertEquals(List.of("top"), tasksOf("flat").stream().map(TaskSpec::inputName).toList());
  }

  @Test
  void anEmptyFileIsAResourceOfSizeZeroWithNoChunks() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));

    runToSuccess(1, "n1", 2000, output("chunk_empty", new byte[0]));

    ResourceRow r = only(q.resourcesNamed("chunk_empty", P));
    assertEquals(Digest.EMPTY, r.hash());
    assertEquals(0, r.size());
    ObjectLayout layout = q.object(Digest.EMPTY).orElseThrow();
    assertEquals(0, layout.size());
    assertEquals(List.of(), layout.chunks());
    assertEquals(Digest.EMPTY, only(tasksOf("map")).inputHash(), "an empty file is consumed too");
  }

  // ---- ReportResults: failure --------------------------------------------------------------

  @Test
  void failureRetriesWithExponentialBackoffThenFailsTheTaskAndTheRun() throws Exception {
    apply(submit("r1", P, 1000, withRetries(GEN, 2, Duration.ofSeconds(1))));

    apply(assign(1100, 1, 1, "n1"));
    apply(results(failure(1, 1, "n1", 10_000, "exit status 3", 500)));
    // 1000 ms for the first retry, plus 500/5000 of it as jitter.
    assertPendingRetry(1, 2, 10_000 + 1000 + 100, "exit status 3");
    var firstEnd = (StateEvent.AttemptEnded) last.events().get(0);
    assertEquals(TaskState.PENDING, firstEnd.taskState());

    apply(assign(11_200, 1, 2, "n2"));
    apply(results(failure(1, 2, "n2", 20_000, "exit status 4", 999)));
    // 2000 ms for the second, plus 999/5000 of it (integer arithmetic).
    assertPendingRetry(1, 3, 20_000 + 2000 + 2000 * 999 / 5000, "exit status 4");

    apply(assign(23_000, 1, 3, "n1"));
    apply(results(failure(1, 3, "n1", 30_000, "exit status 5", 0)));

    TaskSpec t = task(1);
    assertEquals(TaskState.FAILED, t.state());
    assertEquals("exit status 5", t.error());
    assertEquals(List.of(), q.pending(10));
    var attempts = q.attempts(1);
    assertEquals(
        List.of(AttemptOutcome.FAILED, AttemptOutcome.FAILED, AttemptOutcome.FAILED),
        attempts.stream().map(a -> a.outcome()).toList());
    assertEquals(
        List.of("exit status 3", "exit status 4", "exit status 5"),
        attempts.stream().map(a -> a.error()).toList());
    assertEquals(1, attempts.get(2).exitCode());
    assertEquals(Digest.EMPTY, attempts.get(2).logHash(), "the log of every attempt is kept");
    assertEquals(RunState.FAILED, run(1).state());
    assertEquals(30_000L, run(1).finishedAt());
    assertEquals(1, q.failedTasks(1).size());
    assertEquals("exit status 5", q.failedTasks(1).get(0).error());
    assertTrue(last.events().contains(new StateEvent.RunEnded(1, RunState.FAILED)));
  }

  private void assertPendingRetry(long taskId, int nextAttempt, long notBefore, String error) {
    TaskSpec t = task(taskId);
    assertEquals(TaskState.PENDING, t.state());
    assertEquals(error, t.error());
    assertNull(t.node());
    PendingTask p = only(q.pending(10), taskId);
    assertEquals(nextAttempt, p.nextAttempt());
    assertEquals(notBefore, p.notBefore());
  }

  private static PendingTask only(List<PendingTask> pending, long taskId) {
    var matching = pending.stream().filter(p -> p.taskId() == taskId).toList();
    assertEquals(1, matching.size(), () -> "pending: " + pending);
    return matching.get(0);
  }

  @Test
  void aFailedTaskDoesNotStopOtherTasks() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"));
    apply(assign(2100, 2, 1, "n1"));
    apply(results(failure(2, 1, "n1", 2200, "boom", 0)));
    assertEquals(TaskState.FAILED, task(2).state());
    assertEquals(RunState.RUNNING, run(1).state(), "task 3 is still pending");

    runToSuccess(3, "n2", 3000);

    assertEquals(RunState.FAILED, run(1).state());
  }

  // ---- stale reports -----------------------------------------------------------------------

  @Test
  void staleReportsAreCountedAndChangeNothingElse() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    apply(assign(1100, 1, 1, "n1"));
    String before = dumpWithoutCounters();

    assertEquals(
        new ReportsApplied(0, 1),
        reply(results(success(1, 2, "n1", 2000, output("x", "1"))))); // wrong attempt
    assertEquals(
        new ReportsApplied(0, 1),
        reply(results(success(1, 1, "n2", 2000, output("x", "1"))))); // wrong node
    assertEquals(new ReportsApplied(0, 1), reply(results(failure(99, 1, "n1", 2000, "no such task", 0))));

    assertEquals(3, q.counter("stale_reports"));
    assertEquals(List.of(), last.events());
    assertEquals(before, dumpWithoutCounters());

    // After the attempt expired, its late report is stale too, and so is a second report of an
    // attempt already reported.
    apply(expire(3000, 1, 1, "node silent"));
    String afterExpiry = dumpWithoutCounters();
    assertEquals(new ReportsApplied(0, 1), reply(results(success(1, 1, "n1", 3100, output("x", "1")))));
    assertEquals(4, q.counter("stale_reports"));
    assertEquals(afterExpiry, dumpWithoutCounters());
    assertEquals(List.of(), resourceNames());

    apply(assign(3200, 1, 2, "n2"));
    apply(results(success(1, 2, "n2", 3300, output("x", "1"))));
    assertEquals(new ReportsApplied(0, 1), reply(results(success(1, 2, "n2", 3400, output("x", "2")))));
    assertEquals(5, q.counter("stale_reports"));
    assertEquals(1, q.resourcesNamed("x", P).size());
  }

  private String dumpWithoutCounters() throws SQLException {
    String dump = dumpWithoutMeta();
    int start = dump.indexOf("== counter\n");
    int end = dump.indexOf("== ", start + 1);
    return dump.substring(0, start) + (end < 0 ? "" : dump.substring(end));
  }

  @Test
  void aMixedReportAcceptsOnlyItsCurrentAttempts() throws Exception {
    apply(submit("r1", P, 1000, GEN, step("b", "start b")));
    apply(assign(1100, 1, 1, "n1"));
    apply(assign(1100, 2, 1, "n2"));

    assertEquals(
        new ReportsApplied(1, 1),
        reply(
            results(
                success(1, 1, "n1", 2000, output("x", "1")),
                success(2, 1, "n1", 2000, output("y", "1"))))); // task 2 runs on n2

    assertEquals(TaskState.SUCCEEDED, task(1).state());
    assertEquals(TaskState.ASSIGNED, task(2).state());
    assertEquals(1, q.counter("stale_reports"));
  }

  // ---- ExpireAttempts ----------------------------------------------------------------------

  @Test
  void expiryReturnsTheTaskToPendingWithoutUsingARetry() throws Exception {
    apply(submit("r1", P, 1000, withRetries(GEN, 1, Duration.ofSeconds(1))));
    apply(assign(1100, 1, 1, "n1"));

    assertEquals(new AttemptsExpired(1), reply(expire(5000, 1, 1, "node n1 silent")));

    assertEquals(
        List.of(new StateEvent.AttemptLost(1, 1, 1, "n1", "node n1 silent")), last.events());
    // Due at once, where it stood: not_before is still the submission's.
    assertPendingRetry(1, 2, 1000, null);
    var lost = q.attempts(1).get(0);
    assertEquals(AttemptOutcome.LOST, lost.outcome());
    assertEquals("node n1 silent", lost.error());
    // An expiry of an attempt that is not current does nothing.
    assertEquals(new AttemptsExpired(0), reply(expire(5100, 1, 1, "again")));
    assertEquals(new AttemptsExpired(0), reply(expire(5100, 42, 1, "no such task")));

    // Two more losses, then one failure: with one retry, the task is still pending.
    apply(assign(5200, 1, 2, "n2"));
    apply(expire(5300, 1, 2, "lost"));
    apply(assign(5400, 1, 3, "n2"));
    apply(expire(5500, 1, 3, "lost"));
    apply(assign(5600, 1, 4, "n1"));
    apply(results(failure(1, 4, "n1", 6000, "exit 1", 0)));
    assertPendingRetry(1, 5, 7000, "exit 1");

    apply(assign(7000, 1, 5, "n1"));
    apply(results(failure(1, 5, "n1", 8000, "exit 1", 0)));
    assertEquals(TaskState.FAILED, task(1).state());
  }

  @Test
  void aLostTaskKeepsItsPlaceInLine() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"), output("chunk_3", "c"));
    long first = tasksOf("map").get(0).taskId();
    apply(assign(2100, first, 1, "n1"));

    apply(expire(9000, first, 1, "node n1 silent"));

    // Its node died; the tasks created after it must not all go first.
    PendingTask next = only(q.pending(1));
    assertEquals(first, next.taskId());
    assertEquals(2, next.nextAttempt());
    assertTrue(next.notBefore() <= 9000, "due at once: " + next);
  }

  @Test
  void aTaskLostTenTimesFails() throws Exception {
    apply(submit("r1", P, 1000, withRetries(GEN, 5, Duration.ofSeconds(1))));
    for (int attempt = 1; attempt <= 9; attempt++) {
      apply(assign(1000 + attempt, 1, attempt, "n1"));
      apply(expire(2000 + attempt, 1, attempt, "lost " + attempt));
      assertEquals(TaskState.PENDING, task(1).state(), "after " + attempt + " losses");
    }
    apply(assign(3000, 1, 10, "n1"));
    apply(expire(4000, 1, 10, "lost 10"));

    TaskSpec t = task(1);
    assertEquals(TaskState.FAILED, t.state());
    assertTrue(t.error().contains("lost 10 times"), t.error());
    assertEquals(RunState.FAILED, run(1).state());
    assertEquals(4000L, run(1).finishedAt());
  }

  // ---- CancelRun ---------------------------------------------------------------------------

  @Test
  void cancelEndsTheRunsActiveTasksAndTellsRunningAttemptsToStop() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"));
    apply(assign(2100, 2, 1, "n2"));

    assertEquals(new RunCancelled(1), reply(cancel(1, 3000)));

    assertEquals(
        List.of(
            new StateEvent.AttemptsCancelled(List.of(new StateEvent.AttemptRef(2, 1, "n2"))),
            new StateEvent.RunEnded(1, RunState.CANCELLED)),
        last.events());
    var run = run(1);
    assertEquals(RunState.CANCELLED, run.state());
    assertEquals(3000L, run.finishedAt());
    assertEquals(1, run.count(TaskState.SUCCEEDED));
    assertEquals(2, run.count(TaskState.CANCELLED));
    assertEquals(AttemptOutcome.CANCELLED, q.attempts(2).get(0).outcome());
    assertEquals(List.of(), q.pending(10));
    assertEquals(List.of(), q.assignedTo("n2"));

    // Afterwards: a late report is stale, assignments are refused, a second cancel is a no-op.
    assertEquals(new ReportsApplied(0, 1), reply(results(success(2, 1, "n2", 3100))));
    assertEquals(new TasksAssigned(0, 1), reply(assign(3200, 3, 1, "n1")));
    assertEquals(new RunAlreadyEnded(1, RunState.CANCELLED), reply(cancel(1, 3300)));
    assertEquals(new NoSuchRun(9), reply(cancel(9, 3300)));
  }

  @Test
  void resubmittingRetriesCancelledAndFailedTasks() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    apply(cancel(1, 1500));
    assertEquals(TaskState.CANCELLED, task(1).state());

    apply(submit("r2", P, 2000, GEN));

    TaskSpec t = task(1);
    assertEquals(TaskState.PENDING, t.state());
    assertEquals(2, t.runId());
    assertEquals(RunState.RUNNING, run(2).state());
  }

  // ---- step versions -----------------------------------------------------------------------

  @Test
  void aNewStepVersionCancelsTheOldOnesTasksAndConsumesEveryLiveResourceAgain() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(
        1, "n1", 2000, output("chunk_1", "a"), output("chunk_2", "b"), output("chunk_3", "c"));
    runToSuccess(2, "n1", 2100, output("out_1", "A")); // chunk_1 done by map v1
    apply(assign(2200, 3, 1, "n2")); // chunk_2 running, chunk_3 pending

    Step map2 = step("map", "transform, edited", "chunk_*");
    apply(submit("r2", P, 3000, GEN, map2));

    var cancelled =
        last.events().stream().filter(e -> e instanceof StateEvent.AttemptsCancelled).toList();
    assertEquals(
        List.of(new StateEvent.AttemptsCancelled(List.of(new StateEvent.AttemptRef(3, 1, "n2")))),
        cancelled);
    var v1 = tasksOf("map").stream().filter(t -> t.stepVersion() == 1).toList();
    assertEquals(
        List.of(TaskState.SUCCEEDED, TaskState.CANCELLED, TaskState.CANCELLED),
        v1.stream().map(TaskSpec::state).toList());
    assertEquals(AttemptOutcome.CANCELLED, q.attempts(3).get(0).outcome());
    var v2 = tasksOf("map").stream().filter(t -> t.stepVersion() == 2).toList();
    assertEquals(
        List.of("chunk_1", "chunk_2", "chunk_3"), v2.stream().map(TaskSpec::inputName).toList());
    assertTrue(v2.stream().allMatch(t -> t.state() == TaskState.PENDING && t.runId() == 2));
    assertEquals("transform, edited", v2.get(0).step().script());
    assertEquals(new StateEvent.RunSubmitted(2, P, 3), last.events().get(last.events().size() - 1));
    // The late report of the cancelled attempt is stale.
    assertEquals(
        new ReportsApplied(0, 1), reply(results(success(3, 1, "n2", 3100, output("out_2", "B")))));
  }

  @Test
  void aRevertMakesTheOldVersionCurrentAgainAndRerunsNothing() throws Exception {
    apply(submit("r1", P, 1000, GEN, MAP));
    runToSuccess(1, "n1", 2000, output("chunk_1", "a"));
    runToSuccess(2, "n1", 2100, output("out_1", "A"));
    Step map2 = step("map", "transform, edited", "chunk_*");
    apply(submit("r2", P, 3000, GEN, map2));
    runToSuccess(3, "n1", 3100, output("out_1", "A2"));
    assertEquals(2, task(3).stepVersion());
    int tasksBefore = tasks().size();

    assertEquals(new RunSubmitted(3), reply(submit("r3", P, 4000, GEN, MAP)));

    assertEquals(new StateEvent.RunSubmitted(3, P, 0), last.events().get(0));
    assertEquals(RunState.SUCCEEDED, run(3).state(), "nothing to run");
    assertEquals(tasksBefore, tasks().size());

    // New input for map now goes to version 1 again.
    apply(submit("r4", P, 5000, step("gen", "produce chunks, edited"), MAP));
    TaskSpec gen2 = only(tasks().stream().filter(t -> t.state() == TaskState.PENDING).toList());
    runToSuccess(gen2.taskId(), "n1", 6000, output("chunk_1", "a"), output("chunk_2", "b"));
    TaskSpec newMap =
        only(tasksOf("map").stream().filter(t -> t.state() == TaskState.PENDING).toList());
    assertEquals("chunk_2", newMap.inputName());
    assertEquals(1, newMap.stepVersion());
    assertEquals(MAP.script(), newMap.step().script());
  }

  @Test
  void operationalOptionsDoNotMakeANewVersion() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    runToSuccess(1, "n1", 2000);

    apply(submit("r2", P, 3000, withRetries(GEN, 3, Duration.ofSeconds(9))));

    assertEquals(1, tasks().size());
    assertEquals(1, task(1).stepVersion());
    assertEquals(3, task(1).step().retries(), "the options of the version are updated");
  }

  // ---- replay and failure ------------------------------------------------------------------

  @Test
  void anEntryAtOrBelowTheAppliedIndexIsSkipped() throws Exception {
    var cmd = submit("r1", P, 1000, GEN);
    assertFalse(state.apply(3, 5, cmd).skipped());
    String dump = state.dump();

    ApplyResult again = state.apply(3, 5, submit("r2", P, 2000, GEN));
    ApplyResult older = state.apply(2, 4, submit("r3", P, 2000, GEN));

    assertTrue(again.skipped());
    assertTrue(older.skipped());
    assertEquals(List.of(), again.events());
    assertEquals(dump, state.dump());
    assertEquals(5, state.appliedIndex());
    assertEquals(3, state.appliedTerm());
  }

  @Test
  void theAppliedIndexSurvivesReopening() throws Exception {
    state.apply(2, 7, submit("r1", P, 1000, GEN));
    state.applyEmpty(2, 9);
    String dump = state.dump();
    state.close();

    state = SqlState.open(dir.resolve("state.db"));
    q = state.queries();

    assertEquals(9, state.appliedIndex());
    assertEquals(2, state.appliedTerm());
    assertTrue(state.apply(2, 7, submit("r1", P, 1000, GEN)).skipped());
    assertTrue(state.apply(2, 9, new PutChunks(List.of())).skipped());
    assertEquals(dump, state.dump());
    assertEquals(RunState.RUNNING, run(1).state());
    assertEquals(new ChunksStored(0), state.apply(2, 10, new PutChunks(List.of())).reply());
  }

  @Test
  void aFailingApplyRollsBackEverything() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    String dump = state.dump();
    long applied = state.appliedIndex();

    // A run without a source breaks a NOT NULL constraint after the pipeline and its step rows
    // were written: the whole entry must be undone.
    SubmitRun broken =
        new SubmitRun(
            "r2", "other-pipeline", null, "m", List.of(step("s", "x")), 2000, null, List.of(), 0);
    assertThrows(SQLException.class, () -> state.apply(1, applied + 1, broken));

    assertEquals(dump, state.dump());
    assertEquals(applied, state.appliedIndex());
    // The record still applies entries, the failed index included.
    assertEquals(new RunSubmitted(2), state.apply(1, applied + 1, submit("r2", P, 2000, GEN)).reply());
    assertEquals(applied + 1, state.appliedIndex());
  }

  @Test
  void aRuntimeFailureDuringApplyRollsBackToo() throws Exception {
    apply(submit("r1", P, 1000, GEN));
    apply(assign(1100, 1, 1, "n1"));
    String dump = state.dump();
    long applied = state.appliedIndex();

    // A step without a script cannot even be hashed, after the pipeline row was written.
    SubmitRun broken =
        new SubmitRun("r2", "p2", "s", "m", List.of(step("s", null)), 2000, null, List.of(), 0);
    assertThrows(RuntimeException.class, () -> state.apply(1, applied + 1, broken));

    assertEquals(dump, state.dump());
    assertEquals(applied, state.appliedIndex());
    assertEquals(TaskState.ASSIGNED, task(1).state());
  }
}
