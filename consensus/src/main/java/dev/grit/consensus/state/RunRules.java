package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.InputSet;
import dev.grit.engine.plan.Planner;
import dev.grit.engine.plan.Planner.GatherCandidate;
import dev.grit.engine.plan.Planner.GatherState;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The apply rules of runs: a submission, a cancellation, and a run's end, which for a run with
 * gather steps means settling them first (see {@link #settle}).
 */
final class RunRules {
  private final RunTable runs;
  private final StepTable steps;
  private final TaskTable tasks;
  private final AttemptTable attempts;
  private final ResourceTable resources;
  private final InputSetTable inputSets;
  private final MetaTable meta;
  private final List<StateEvent> events;

  RunRules(
      RunTable runs,
      StepTable steps,
      TaskTable tasks,
      AttemptTable attempts,
      ResourceTable resources,
      InputSetTable inputSets,
      MetaTable meta,
      List<StateEvent> events) {
    this.runs = runs;
    this.steps = steps;
    this.tasks = tasks;
    this.attempts = attempts;
    this.resources = resources;
    this.inputSets = inputSets;
    this.meta = meta;
    this.events = events;
  }

  /**
   * Registers the manifest's step versions and makes them the pipeline's current ones, cancels
   * what older versions still had to do, creates the run, which takes over the unfinished tasks
   * of the pipeline's earlier runs, and creates the tasks the submission plans. The same request
   * twice is one run. A manifest with gather steps is refused, changing nothing, by a record of
   * rules older than {@link RulesVersion#GATHER}: the leader refuses it before it is logged, so
   * this only keeps replicas equal should one be logged all the same.
   */
  Reply submit(SubmitRun s, long index) throws SQLException {
    Long existing = runs.byRequest(s.requestId());
    if (existing != null) {
      events.add(new StateEvent.RunSubmitted(existing, s.pipeline(), 0));
      return new Reply.RunSubmitted(existing);
    }
    int rules = meta.rulesVersion();
    String tooOld = s.whyRulesTooOld(rules);
    if (tooOld != null) {
      return new Reply.SubmissionRefused(tooOld);
    }
    long pipelineId = runs.pipelineId(s.pipeline());
    steps.retireAll(pipelineId);
    List<Step> submitted = s.steps();
    for (int i = 0; i < submitted.size(); i++) {
      long id = registerStep(pipelineId, submitted.get(i), index);
      steps.makeCurrent(id);
      if (rules >= RulesVersion.GATHER) {
        steps.place(id, i);
      }
    }
    long runId = runs.insert(pipelineId, s);
    for (long superseded : runs.runningExcept(pipelineId, runId)) {
      events.add(new StateEvent.RunEnded(superseded, RunState.SUPERSEDED));
    }
    runs.supersedeRunning(pipelineId, runId, s.submittedAt());
    cancelTasksOfRetiredSteps(pipelineId, s.submittedAt());

    List<StepVersion> enabled = Planner.enabled(steps.current(pipelineId), s.onlySteps());
    // Unfinished tasks of earlier runs of the pipeline continue as part of the new run.
    for (StepVersion v : enabled) {
      tasks.adopt(v.stepId(), runId);
    }
    int created = 0;
    var planned = Planner.plannedAtSubmission(enabled, s.startStep());
    for (TaskKey key : Planner.forSubmission(planned, resources.live(pipelineId))) {
      // A task that had failed or been cancelled is tried again with a fresh retry budget: a
      // resubmission retries.
      if (tasks.create(key, runId, s.submittedAt(), index)
          || tasks.revive(key, runId, s.submittedAt())) {
        created++;
      }
    }
    events.add(new StateEvent.RunSubmitted(runId, s.pipeline(), created));
    settle(runId, s.submittedAt(), index);
    return new Reply.RunSubmitted(runId);
  }

  /** The step's row for its version: found again when the version existed (a revert), else new. */
  private long registerStep(long pipelineId, Step step, long index) throws SQLException {
    String hash = step.versionHash().toString();
    Long id = steps.find(pipelineId, step.name(), hash);
    if (id != null) {
      steps.updateOptions(id, step);
      return id;
    }
    long version = steps.nextVersion(pipelineId, step.name());
    return steps.insert(pipelineId, step, version, hash, index);
  }

  /** Unfinished tasks of step versions the manifest no longer has would publish stale outputs. */
  private void cancelTasksOfRetiredSteps(long pipelineId, long at) throws SQLException {
    String why = "step version superseded";
    var cancelled = new ArrayList<AttemptRef>();
    List<TaskTable.Active> active = tasks.activeOfRetiredSteps(pipelineId);
    for (TaskTable.Active t : active) {
      if (t.state() == TaskState.ASSIGNED) {
        cancelled.add(new AttemptRef(t.id(), t.attempt(), t.node()));
      }
    }
    for (TaskTable.Active t : active) {
      tasks.end(t.id(), TaskState.CANCELLED, why);
    }
    for (AttemptRef a : cancelled) {
      attempts.endUnreported(a.taskId(), a.attempt(), AttemptOutcome.CANCELLED, at, why);
    }
    if (!cancelled.isEmpty()) {
      events.add(new StateEvent.AttemptsCancelled(cancelled));
    }
  }

  /** A running run's unfinished tasks are CANCELLED, and its running attempts told to stop. */
  Reply cancel(CancelRun r) throws SQLException {
    RunState state = runs.state(r.runId());
    if (state == null) {
      return new Reply.NoSuchRun(r.runId());
    }
    if (state != RunState.RUNNING) {
      return new Reply.RunAlreadyEnded(r.runId(), state);
    }
    List<AttemptRef> running = tasks.assignedIn(r.runId());
    for (AttemptRef a : running) {
      attempts.endUnreported(a.taskId(), a.attempt(), AttemptOutcome.CANCELLED, r.at(), "cancelled");
    }
    tasks.cancelActiveIn(r.runId(), "cancelled");
    runs.end(r.runId(), RunState.CANCELLED, r.at());
    if (!running.isEmpty()) {
      events.add(new StateEvent.AttemptsCancelled(running));
    }
    events.add(new StateEvent.RunEnded(r.runId(), RunState.CANCELLED));
    return new Reply.RunCancelled(r.runId());
  }

  /**
   * Moves a run on once none of its tasks is pending or assigned (it is quiet). Then, under rules
   * {@link RulesVersion#GATHER} and later, its gather steps are settled one at a time, in manifest
   * order: the first whose current input set is not empty and has no succeeded task gets that task
   * (or, failed in an earlier run, has it revived), and the run goes on. Quiet means nothing that
   * could still add to a set is pending or running, retries waiting out their back-off included:
   * what a script writes is known only once it ran, so any task may. A run with no gather step
   * left to settle ends, FAILED if any of its tasks failed, else SUCCEEDED; after a failure no
   * gather step runs (its set may lack what the failed task would have made), and the run says
   * which did not.
   */
  void settle(long runId, long at, long index) throws SQLException {
    if (runs.state(runId) != RunState.RUNNING || tasks.anyActiveIn(runId)) {
      return;
    }
    String reason = null;
    if (meta.rulesVersion() >= RulesVersion.GATHER) {
      List<GatherCandidate> gathers = gatherCandidates(runId);
      if (!gathers.isEmpty()) {
        TaskTable.Failures failures = tasks.failuresIn(runId);
        if (failures.count() == 0) {
          Optional<GatherCandidate> next = Planner.nextGather(gathers);
          if (next.isPresent()) {
            startGather(next.get(), runId, index);
            return;
          }
        } else {
          reason = blockedReason(Planner.blockedGathers(gathers), failures);
        }
      }
    }
    RunState end = tasks.anyFailedIn(runId) ? RunState.FAILED : RunState.SUCCEEDED;
    runs.end(runId, end, at, reason);
    events.add(new StateEvent.RunEnded(runId, end));
  }

  /** The run's gather steps in manifest order, each with its current set and how that stands. */
  private List<GatherCandidate> gatherCandidates(long runId) throws SQLException {
    long pipelineId = runs.pipelineOf(runId);
    List<StepVersion> gathers =
        Planner.enabled(steps.currentGathers(pipelineId), runs.onlySteps(runId));
    if (gathers.isEmpty()) {
      return List.of();
    }
    List<InputSet.Member> current = resources.current(pipelineId);
    var out = new ArrayList<GatherCandidate>();
    for (StepVersion g : gathers) {
      var set = new InputSet(current.stream().filter(m -> g.step().consumes(m.name())).toList());
      GatherState state = GatherState.NEW;
      if (set.isEmpty()) {
        steps.gathered(g.stepId(), 0);
      } else {
        Long setId = inputSets.find(pipelineId, set);
        TaskTable.Existing task =
            setId == null ? null : tasks.find(new TaskKey(g.stepId(), Planner.SEED, setId));
        if (task != null) {
          state =
              task.state() == TaskState.SUCCEEDED
                  ? GatherState.SUCCEEDED
                  : task.state() == TaskState.FAILED && task.runId() == runId
                      ? GatherState.FAILED_HERE
                      : GatherState.ENDED_EARLIER;
          // A set seen before (a revert finds its task): that task's outputs are current again.
          steps.gathered(g.stepId(), task.id());
        }
      }
      out.add(new GatherCandidate(g, set, state));
    }
    return out;
  }

  /**
   * The task of the gather step over its set: the set is recorded if it is new, and so is the
   * task, which is also the step's latest (its outputs become the step's current ones).
   */
  private void startGather(GatherCandidate next, long runId, long index) throws SQLException {
    StepVersion g = next.step();
    long pipelineId = runs.pipelineOf(runId);
    var key = new TaskKey(g.stepId(), Planner.SEED, inputSets.findOrAdd(pipelineId, next.set()));
    if (!tasks.create(key, runId, 0, index) && !tasks.revive(key, runId, 0)) {
      // Not ended, so still to run in another run: there is only one running run per pipeline,
      // but a run must never wait for a task that is not its own.
      tasks.moveIfActive(tasks.find(key).id(), runId);
    }
    // A task that failed or was cancelled in an earlier run was revived above: this run tries it
    // again, as a resubmission retries any failed task.
    long taskId = tasks.find(key).id();
    steps.gathered(g.stepId(), taskId);
    events.add(
        new StateEvent.GatherPlanned(
            runId, taskId, g.step().name(), next.set().members().size()));
  }

  private static String blockedReason(List<String> blocked, TaskTable.Failures failures) {
    if (blocked.isEmpty()) {
      return null;
    }
    String which =
        failures.count() == 1
            ? "task " + failures.firstTask() + " (step " + failures.firstStep() + ") failed"
            : failures.count()
                + " tasks failed (the first: task "
                + failures.firstTask()
                + ", step "
                + failures.firstStep()
                + ")";
    return (blocked.size() == 1 ? "gather step " : "gather steps ")
        + String.join(", ", blocked)
        + " did not run: "
        + which
        + ", and a gather step runs only over a complete set";
  }
}
