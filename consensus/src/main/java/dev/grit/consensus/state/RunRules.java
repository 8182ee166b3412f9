package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.Planner;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The apply rules of runs: a submission, a cancellation, and a run's end. */
final class RunRules {
  private final RunTable runs;
  private final StepTable steps;
  private final TaskTable tasks;
  private final AttemptTable attempts;
  private final ResourceTable resources;
  private final List<StateEvent> events;

  RunRules(
      RunTable runs,
      StepTable steps,
      TaskTable tasks,
      AttemptTable attempts,
      ResourceTable resources,
      List<StateEvent> events) {
    this.runs = runs;
    this.steps = steps;
    this.tasks = tasks;
    this.attempts = attempts;
    this.resources = resources;
    this.events = events;
  }

  /**
   * Registers the manifest's step versions and makes them the pipeline's current ones, cancels
   * what older versions still had to do, creates the run, which takes over the unfinished tasks
   * of the pipeline's earlier runs, and creates the tasks the submission plans. The same request
   * twice is one run.
   */
  Reply submit(SubmitRun s, long index) throws SQLException {
    Long existing = runs.byRequest(s.requestId());
    if (existing != null) {
      events.add(new StateEvent.RunSubmitted(existing, s.pipeline(), 0));
      return new Reply.RunSubmitted(existing);
    }
    long pipelineId = runs.pipelineId(s.pipeline());
    steps.retireAll(pipelineId);
    for (Step step : s.steps()) {
      steps.makeCurrent(registerStep(pipelineId, step, index));
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
    endIfDone(runId, s.submittedAt());
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

  /** A run ends when none of its tasks is pending or assigned; FAILED if any of them failed. */
  void endIfDone(long runId, long at) throws SQLException {
    if (runs.state(runId) != RunState.RUNNING || tasks.anyActiveIn(runId)) {
      return;
    }
    RunState end = tasks.anyFailedIn(runId) ? RunState.FAILED : RunState.SUCCEEDED;
    runs.end(runId, end, at);
    events.add(new StateEvent.RunEnded(runId, end));
  }
}
