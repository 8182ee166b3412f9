package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.failure;
import static dev.grit.consensus.testing.TestCommands.gather;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.success;
import static dev.grit.consensus.testing.TestCommands.withRetries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply.ReportsApplied;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply.SubmissionRefused;
import dev.grit.consensus.state.Reply.TasksAssigned;
import dev.grit.consensus.state.StateQueries.Input;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.consensus.testing.TestCommands;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.ReportResults.Output;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.plan.InputSet;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The apply rules of gather steps, observed through {@link StateQueries}: the barrier, the set and
 * its identity, incrementality and cut-off, and a failed producer. The pipeline: {@code split}
 * writes chunks, {@code count} counts each into {@code counts/<chunk>}, {@code total} gathers the
 * counts, and {@code publish} consumes the total.
 */
class GatherRulesTest {
  private static final String P = "words";
  private static final Step COUNT =
      withRetries(step("count", "wc -w", "chunk_*"), 1, Duration.ofSeconds(1));
  private static final Step TOTAL = gather("total", "sum counts", "counts/*");
  private static final Step PUBLISH = step("publish", "copy total", "total");

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
    apply(new RaiseRulesVersion(RulesVersion.GATHER, clock));
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

  private static Step split(String script) {
    return step("split", script);
  }

  private long submitRun(Step... steps) throws SQLException {
    clock += 1_000;
    String request = "req-" + ++requests;
    return apply(TestCommands.submit(request, P, clock, steps)).as(RunSubmitted.class).runId();
  }

  private List<TaskSpec> tasks() {
    var out = new ArrayList<TaskSpec>();
    for (long id = 1; id < 200; id++) {
      q.task(id).ifPresent(out::add);
    }
    return out;
  }

  private List<TaskSpec> tasksOf(String stepName) {
    return tasks().stream().filter(t -> t.step().name().equals(stepName)).toList();
  }

  private List<TaskSpec> pendingOf(String stepName) {
    return tasksOf(stepName).stream().filter(t -> t.state() == TaskState.PENDING).toList();
  }

  private TaskSpec onlyPending(String stepName) {
    List<TaskSpec> pending = pendingOf(stepName);
    assertEquals(1, pending.size(), () -> "pending tasks of " + stepName + ": " + pending);
    return pending.get(0);
  }

  /** Runs the task's next attempt to success with {@code outputs}. */
  private void succeed(TaskSpec task, Output... outputs) throws SQLException {
    int attempt = task.attempt() + 1;
    clock += 10;
    assertEquals(new TasksAssigned(1, 0), apply(assign(clock, task.taskId(), attempt, "n1")));
    clock += 10;
    assertEquals(
        new ReportsApplied(1, 0),
        apply(results(success(task.taskId(), attempt, "n1", clock, outputs))));
  }

  private void fail(TaskSpec task) throws SQLException {
    int attempt = task.attempt() + 1;
    clock += 10;
    apply(assign(clock, task.taskId(), attempt, "n1"));
    clock += 10;
    apply(results(failure(task.taskId(), attempt, "n1", clock, "exit 1", 0)));
  }

  /** Runs every pending count task: the count of a chunk is its length. */
  private void countAll() throws SQLException {
    for (TaskSpec t : pendingOf("count")) {
      String chunk = t.inputName();
      succeed(t, output("counts/" + chunk, q.object(t.inputHash()).orElseThrow().size() + "\n"));
    }
  }

  private StateQueries.RunView run(long id) {
    return q.run(id).orElseThrow();
  }

  private List<String> inputNames(TaskSpec task) {
    return q.inputs(task.taskId()).stream().map(Input::name).toList();
  }

  @Test
  void theGatherTaskWaitsForEveryProducerRetriesIncludedAndSeesTheWholeSet() throws Exception {
    long run = submitRun(split("chunks a b"), COUNT, TOTAL, PUBLISH);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    assertEquals(2, pendingOf("count").size());
    assertEquals(List.of(), tasksOf("total"), "no gather task while producers are pending");

    TaskSpec first = pendingOf("count").get(0);
    TaskSpec second = pendingOf("count").get(1);
    fail(first);
    assertEquals(TaskState.PENDING, q.task(first.taskId()).orElseThrow().state(), "it retries");
    succeed(second, output("counts/chunk_2", "3\n"));
    assertEquals(List.of(), tasksOf("total"), "a producer waiting out its back-off holds the barrier");
    assertEquals(RunState.RUNNING, run(run).state());

    succeed(q.task(first.taskId()).orElseThrow(), output("counts/chunk_1", "2\n"));
    TaskSpec total = onlyPending("total");
    assertTrue(total.step().gather());
    assertNull(total.inputName(), "a gather task has no single input");
    assertEquals(List.of("counts/chunk_1", "counts/chunk_2"), inputNames(total));
    assertEquals(run, total.runId());

    succeed(total, output("total", "5\n"));
    succeed(onlyPending("publish"), output("published", "5\n"));
    assertEquals(RunState.SUCCEEDED, run(run).state());
    assertNull(run(run).reason());
  }

  @Test
  void theTaskIsNamedByTheSetSoARerunDoesNothingAndARevertFindsTheOldTask() throws Exception {
    Step splitV1 = split("chunks a b");
    Step splitV2 = split("chunks a b c");
    submitRun(splitV1, COUNT, TOTAL, PUBLISH);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    countAll();
    TaskSpec first = onlyPending("total");
    succeed(first, output("total", "5\n"));
    succeed(onlyPending("publish"), output("published", "5\n"));
    int tasksBefore = tasks().size();

    // The same manifest again: every set is known, nothing runs, the run ends at once.
    long rerun = submitRun(splitV1, COUNT, TOTAL, PUBLISH);
    assertEquals(RunState.SUCCEEDED, run(rerun).state());
    assertEquals(tasksBefore, tasks().size());

    // An added input: one new count task, then exactly one new gather task over all three.
    long added = submitRun(splitV2, COUNT, TOTAL, PUBLISH);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"), output("chunk_3", "c"));
    assertEquals(1, pendingOf("count").size(), "only the new chunk is counted");
    countAll();
    TaskSpec second = onlyPending("total");
    assertEquals(List.of("counts/chunk_1", "counts/chunk_2", "counts/chunk_3"), inputNames(second));
    succeed(second, output("total", "6\n"));
    succeed(onlyPending("publish"), output("published", "6\n"));
    assertEquals(RunState.SUCCEEDED, run(added).state());
    assertEquals(2, tasksOf("total").size());

    // Back to the first split: its task, the counts and the first set are all known again.
    int before = tasks().size();
    long reverted = submitRun(splitV1, COUNT, TOTAL, PUBLISH);
    assertEquals(RunState.SUCCEEDED, run(reverted).state(), "nothing runs after a revert");
    assertEquals(before, tasks().size());
    assertEquals(
        List.of("chunk_1", "chunk_2", "counts/chunk_1", "counts/chunk_2", "published", "total"),
        currentNames(),
        "the current resources are the first set's again, and its total");
    assertEquals(Digest.of("5\n".getBytes()), currentHash("total"));
  }

  @Test
  void equalTotalBytesCutOffEverythingDownstream() throws Exception {
    submitRun(split("chunks"), COUNT, TOTAL, PUBLISH);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    countAll();
    succeed(onlyPending("total"), output("total", "5\n"));
    succeed(onlyPending("publish"), output("published", "5\n"));

    // A new chunk whose count is 0: a new set, a new gather task, the same total.
    long run = submitRun(split("chunks and an empty one"), COUNT, TOTAL, PUBLISH);
    succeed(
        onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"), output("chunk_3", ""));
    countAll();
    succeed(onlyPending("total"), output("total", "5\n"));
    assertEquals(List.of(), pendingOf("publish"), "publish does not run again on equal bytes");
    assertEquals(1, tasksOf("publish").size());
    assertEquals(RunState.SUCCEEDED, run(run).state());
  }

  @Test
  void aChangedInputReplacesItsOldVersionInTheSet() throws Exception {
    submitRun(split("v1"), COUNT, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    countAll();
    succeed(onlyPending("total"), output("total", "5\n"));

    // chunk_2 changes; count is the same step version, so its old count is still "live", but
    // it was made from a chunk no current step made: the set has the new count, not both.
    submitRun(split("v2"), COUNT, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbbb"));
    countAll();
    TaskSpec total = onlyPending("total");
    List<Input> inputs = q.inputs(total.taskId());
    assertEquals(List.of("counts/chunk_1", "counts/chunk_2"), inputs.stream().map(Input::name).toList());
    assertEquals(Digest.of("4\n".getBytes()), inputs.get(1).hash());
  }

  @Test
  void aProducerThatFailedForGoodKeepsTheGatherStepFromRunningAndTheRunSaysWhy() throws Exception {
    long run = submitRun(split("chunks"), step("count", "wc -w", "chunk_*"), TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    TaskSpec broken = pendingOf("count").get(0);
    fail(broken);
    assertEquals(RunState.RUNNING, run(run).state(), "the other count still runs");
    countAll();
    assertEquals(List.of(), tasksOf("total"));
    var view = run(run);
    assertEquals(RunState.FAILED, view.state());
    assertEquals(
        "gather step total did not run: task "
            + broken.taskId()
            + " (step count) failed, and a gather step runs only over a complete set",
        view.reason());
  }

  @Test
  void gatherStepsSettleOneAtATimeInManifestOrder() throws Exception {
    // "grand" gathers what "total" publishes: listed after it, it runs once, over the new total.
    Step grand = gather("grand", "sum totals", "total");
    long run = submitRun(split("chunks"), COUNT, TOTAL, grand);
    succeed(onlyPending("split"), output("chunk_1", "aa"));
    countAll();
    assertEquals(List.of(), tasksOf("grand"));
    succeed(onlyPending("total"), output("total", "2\n"));
    TaskSpec g = onlyPending("grand");
    assertEquals(List.of("total"), inputNames(g));
    succeed(g, output("grand", "2\n"));
    assertEquals(RunState.SUCCEEDED, run(run).state());
    assertEquals(1, tasksOf("grand").size());
  }

  @Test
  void aGatherStepWithNothingToGatherDoesNotRun() throws Exception {
    long run = submitRun(split("nothing matching"), COUNT, TOTAL);
    succeed(onlyPending("split"), output("other", "x"));
    assertEquals(List.of(), tasksOf("total"));
    assertEquals(RunState.SUCCEEDED, run(run).state());
  }

  @Test
  void aGatherStepListedBeforeTheGatherItConsumesWaitsForItAndRunsOnce() throws Exception {
    // "grand" gathers what "total" publishes, but is listed first: its set is empty until total
    // ran, so total runs first and grand once, over the new total.
    Step grand = gather("grand", "sum totals", "total");
    long run = submitRun(split("chunks"), COUNT, grand, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"));
    countAll();
    assertEquals(List.of(), tasksOf("grand"));
    succeed(onlyPending("total"), output("total", "2\n"));
    TaskSpec g = onlyPending("grand");
    assertEquals(List.of("total"), inputNames(g));
    succeed(g, output("grand", "2\n"));
    assertEquals(RunState.SUCCEEDED, run(run).state());

    // A changed chunk: total runs again, then grand once over the new total.
    long next = submitRun(split("chunks v2"), COUNT, grand, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aaa"));
    countAll();
    assertEquals(List.of(), pendingOf("grand"), "grand waits for the total listed after it");
    succeed(onlyPending("total"), output("total", "3\n"));
    succeed(onlyPending("grand"), output("grand", "3\n"));
    assertEquals(RunState.SUCCEEDED, run(next).state());
    assertEquals(2, tasksOf("grand").size());
  }

  @Test
  void aCancelledRunLeavesItsGatherTaskForTheNextSubmission() throws Exception {
    long run = submitRun(split("chunks"), COUNT, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    countAll();
    TaskSpec total = onlyPending("total");
    clock += 10;
    apply(assign(clock, total.taskId(), 1, "n1"));
    apply(TestCommands.cancel(run, clock + 1));
    assertEquals(RunState.CANCELLED, run(run).state());
    assertEquals(TaskState.CANCELLED, q.task(total.taskId()).orElseThrow().state());

    // The same manifest again: no producer reruns, the cancelled gather task over the same set
    // is tried again, and the run ends.
    long again = submitRun(split("chunks"), COUNT, TOTAL);
    assertEquals(total.taskId(), onlyPending("total").taskId());
    assertEquals(List.of(), pendingOf("count"));
    succeed(q.task(total.taskId()).orElseThrow(), output("total", "5\n"));
    assertEquals(RunState.SUCCEEDED, run(again).state());
  }

  @Test
  void aFailureOfAnyTaskOfTheRunHoldsTheGatherBackAndTheRunEnds() throws Exception {
    // "check" writes nothing the gather consumes, but what a script writes is known only once it
    // ran: its failure, too, keeps the gather step from running, and the run ends saying so.
    long run = submitRun(split("chunks"), COUNT, step("check", "test -s", "chunk_*"), TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"), output("chunk_2", "bbb"));
    countAll();
    TaskSpec check = pendingOf("check").get(0);
    fail(check);
    succeed(onlyPending("check"));
    assertEquals(List.of(), tasksOf("total"));
    assertEquals(RunState.FAILED, run(run).state());
    assertEquals(
        "gather step total did not run: task "
            + check.taskId()
            + " (step check) failed, and a gather step runs only over a complete set",
        run(run).reason());

    // Fixed: the failed task is retried, and then the gather runs.
    long fixed = submitRun(split("chunks"), COUNT, step("check", "test -s", "chunk_*"), TOTAL);
    succeed(onlyPending("check"));
    succeed(onlyPending("total"), output("total", "5\n"));
    assertEquals(RunState.SUCCEEDED, run(fixed).state());
  }

  @Test
  void aGatherTaskThatFailsForGoodEndsTheRunAndANewSubmissionRetriesIt() throws Exception {
    long run = submitRun(split("chunks"), COUNT, TOTAL);
    succeed(onlyPending("split"), output("chunk_1", "aa"));
    countAll();
    TaskSpec total = onlyPending("total");
    fail(total);
    assertEquals(RunState.FAILED, run(run).state());
    assertNull(run(run).reason(), "the failed task says why: no gather step was held back");
    assertEquals(1, tasksOf("total").size(), "the failed gather task is not planned again");

    long again = submitRun(split("chunks"), COUNT, TOTAL);
    assertEquals(total.taskId(), onlyPending("total").taskId());
    succeed(q.task(total.taskId()).orElseThrow(), output("total", "2\n"));
    assertEquals(RunState.SUCCEEDED, run(again).state());
  }

  @Test
  void aRecordOfTheFirstRulesRefusesGatherStepsAndChangesNothing() throws Exception {
    try (SqlState old = SqlState.open(dir.resolve("old.db"))) {
      assertEquals(RulesVersion.INITIAL, old.rulesVersion());
      String before = old.dump();
      Reply reply = old.apply(1, 1, TestCommands.submit("r", P, 1, split("x"), TOTAL)).reply();
      assertEquals(
          new SubmissionRefused(
              "the manifest has gather steps (total), which need rules version 2, and the"
                  + " cluster still follows rules version 1"),
          reply);
      assertEquals(before.replace("0|5|0|0|1", "0|5|1|1|1"), old.dump());
    }
  }

  private List<String> currentNames() {
    return currentResources().stream().map(InputSet.Member::name).toList();
  }

  private Digest currentHash(String name) {
    return currentResources().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow().hash();
  }

  private List<InputSet.Member> currentResources() {
    return q.currentResources(P);
  }
}
