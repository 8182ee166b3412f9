package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.cancel;
import static dev.grit.consensus.testing.TestCommands.failure;
import static dev.grit.consensus.testing.TestCommands.gather;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.RetryRefused;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply.TasksRetried;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.consensus.testing.StateDump;
import dev.grit.consensus.testing.TestCommands;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.manifest.Step;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The apply rule of {@link RetryTasks}: a run's failed and cancelled tasks pending again with a
 * fresh budget, an ended run running again until it settles, and the refusals (older rules, a
 * superseded run, a task that did not fail), each of which changes nothing.
 */
class RetryRulesTest {
  private static final String P = "pipe";
  private static final Step SPLIT = step("split", "split");
  private static final Step WORK = step("work", "work", "part_*");
  private static final Step TOTAL = gather("total", "sum", "done/*");

  @TempDir Path dir;
  private SqlState state;
  private StateQueries q;
  private long index;
  private long clock = 1_000;
  private int requests;

  @BeforeEach
  void open() throws Exception {
    state = SqlState.open(dir.resolve("state.db"));
    q = state.queries();
  }

  @AfterEach
  void close() {
    state.close();
  }

  private Reply apply(Command command) throws SQLException {
    ApplyResult result = state.apply(1, ++index, command);
    assertFalse(result.skipped());
    return result.reply();
  }

  /** The record but the meta table, whose applied index moves with every entry, refused or not. */
  private String record() {
    String dump = StateDump.of(dir.resolve("state.db"));
    int meta = dump.indexOf("== meta\n");
    int next = dump.indexOf("== ", meta + 3);
    return dump.substring(0, meta) + dump.substring(next);
  }

  private void raise(int version) throws SQLException {
    apply(new RaiseRulesVersion(version, clock));
  }

  private long submitRun(Step... steps) throws SQLException {
    clock += 1_000;
    return apply(TestCommands.submit("req-" + ++requests, P, clock, steps))
        .as(RunSubmitted.class)
        .runId();
  }

  private List<TaskSpec> tasksOf(String step) {
    var out = new ArrayList<TaskSpec>();
    for (long id = 1; id < 100; id++) {
      q.task(id).filter(t -> t.step().name().equals(step)).ifPresent(out::add);
    }
    return out;
  }

  private TaskSpec task(long id) {
    return q.task(id).orElseThrow();
  }

  private void succeed(TaskSpec t, dev.grit.engine.command.ReportResults.Output... outputs)
      throws SQLException {
    int attempt = t.attempt() + 1;
    apply(assign(clock += 10, t.taskId(), attempt, "n1"));
    apply(results(success(t.taskId(), attempt, "n1", clock += 10, outputs)));
  }

  private void fail(TaskSpec t) throws SQLException {
    int attempt = t.attempt() + 1;
    apply(assign(clock += 10, t.taskId(), attempt, "n1"));
    apply(results(failure(t.taskId(), attempt, "n1", clock += 10, "exit status 1", 0)));
  }

  /** A run whose split made two parts, and whose work on part_1 succeeded and on part_2 failed. */
  private long failedRun() throws SQLException {
    long run = submitRun(SPLIT, WORK, TOTAL);
    succeed(tasksOf("split").get(0), output("part_1", "a"), output("part_2", "b"));
    succeed(tasksOf("work").get(0), output("done/1", "A"));
    fail(tasksOf("work").get(1));
    assertEquals(RunState.FAILED, q.run(run).orElseThrow().state());
    return run;
  }

  @Test
  void aFailedRunRunsItsFailedTasksAgainAndSettlesAsAnyRun() throws Exception {
    raise(RulesVersion.RETRY);
    long run = failedRun();
    TaskSpec failed = tasksOf("work").get(1);
    assertTrue(q.run(run).orElseThrow().reason().contains("total"), "the gather step was held");

    assertEquals(new TasksRetried(run, 1), apply(new RetryTasks(run, RetryTasks.ALL, clock += 10)));
    var reopened = q.run(run).orElseThrow();
    assertEquals(RunState.RUNNING, reopened.state());
    assertNull(reopened.finishedAt());
    assertNull(reopened.reason());
    TaskSpec again = task(failed.taskId());
    assertEquals(TaskState.PENDING, again.state());
    assertEquals(1, again.attempt(), "the attempt count goes on: the next attempt is 2");
    assertEquals(TaskState.SUCCEEDED, task(tasksOf("work").get(0).taskId()).state(), "untouched");

    succeed(again, output("done/2", "B"));
    assertEquals(RunState.RUNNING, q.run(run).orElseThrow().state(), "the gather step runs now");
    TaskSpec total = tasksOf("total").get(0);
    assertEquals(run, total.runId());
    succeed(total, output("total", "AB"));
    assertEquals(RunState.SUCCEEDED, q.run(run).orElseThrow().state());
    assertEquals(2, q.attempts(failed.taskId()).size());

    assertEquals(
        new TasksRetried(run, 0),
        apply(new RetryTasks(run, RetryTasks.ALL, clock += 10)),
        "nothing left to retry: nothing changes");
    assertEquals(RunState.SUCCEEDED, q.run(run).orElseThrow().state());
  }

  @Test
  void oneTaskIsRetriedAloneAndOnlyAFailedOrCancelledOne() throws Exception {
    raise(RulesVersion.RETRY);
    long run = submitRun(SPLIT, WORK);
    succeed(tasksOf("split").get(0), output("part_1", "a"), output("part_2", "b"));
    fail(tasksOf("work").get(0));
    fail(tasksOf("work").get(1));
    long first = tasksOf("work").get(0).taskId();
    long second = tasksOf("work").get(1).taskId();
    long split = tasksOf("split").get(0).taskId();

    String before = record();
    assertInstanceOf(RetryRefused.class, apply(new RetryTasks(run, split, clock += 10)));
    assertInstanceOf(RetryRefused.class, apply(new RetryTasks(run, 999, clock += 10)));
    assertEquals(before, record(), "a refusal changes nothing");

    assertEquals(new TasksRetried(run, 1), apply(new RetryTasks(run, second, clock += 10)));
    assertEquals(TaskState.FAILED, task(first).state());
    assertEquals(TaskState.PENDING, task(second).state());
    assertEquals(RunState.RUNNING, q.run(run).orElseThrow().state());
    succeed(task(second), output("out_2", "B"));
    assertEquals(RunState.FAILED, q.run(run).orElseThrow().state(), "the other task still failed");
  }

  @Test
  void aCancelledRunRunsItsCancelledTasks() throws Exception {
    raise(RulesVersion.RETRY);
    long run = submitRun(SPLIT, WORK);
    succeed(tasksOf("split").get(0), output("part_1", "a"), output("part_2", "b"));
    TaskSpec running = tasksOf("work").get(0);
    apply(assign(clock += 10, running.taskId(), 1, "n1"));
    apply(cancel(run, clock += 10));
    assertEquals(RunState.CANCELLED, q.run(run).orElseThrow().state());

    assertEquals(new TasksRetried(run, 2), apply(new RetryTasks(run, RetryTasks.ALL, clock += 10)));
    assertEquals(RunState.RUNNING, q.run(run).orElseThrow().state());
    for (TaskSpec t : tasksOf("work")) {
      assertEquals(TaskState.PENDING, t.state());
      succeed(t);
    }
    assertEquals(RunState.SUCCEEDED, q.run(run).orElseThrow().state());
  }

  @Test
  void aSupersededRunIsNotRetriedAndNoSuchRunIsNamed() throws Exception {
    raise(RulesVersion.RETRY);
    long old = failedRun();
    long newer = submitRun(SPLIT, WORK, TOTAL);
    String before = record();
    var refused = (RetryRefused) apply(new RetryTasks(old, RetryTasks.ALL, clock += 10));
    assertTrue(refused.reason().contains("retry run " + newer), refused.reason());
    assertEquals(new NoSuchRun(77), apply(new RetryTasks(77, RetryTasks.ALL, clock += 10)));
    assertEquals(before, record());
  }

  @Test
  void underOlderRulesARetryIsRefusedAndChangesNothing() throws Exception {
    raise(RulesVersion.GATHER);
    long run = failedRun();
    String before = record();
    var refused = (RetryRefused) apply(new RetryTasks(run, RetryTasks.ALL, clock += 10));
    assertTrue(refused.reason().contains("rules version " + RulesVersion.RETRY), refused.reason());
    assertEquals(before, record());
    assertEquals(RunState.FAILED, q.run(run).orElseThrow().state());
  }
}
