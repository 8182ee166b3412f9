package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.ReportResults.Report;
import dev.grit.engine.plan.Planner;
import dev.grit.engine.plan.Planner.ResourceRef;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The apply rules of tasks and their attempts: an assignment, a report of how attempts ended, and
 * the expiry of lost attempts. Only the current attempt of a task counts; anything else was
 * decided or reported on an older view of the record and is ignored.
 */
final class TaskRules {
  /** A task lost this many times (its nodes kept dying) fails instead of being retried again. */
  static final int MAX_LOSSES = 10;

  private final TaskTable tasks;
  private final AttemptTable attempts;
  private final ResourceTable resources;
  private final StepTable steps;
  private final RunTable runs;
  private final MetaTable meta;
  private final RunRules runRules;
  private final RetentionRules retention;
  private final List<StateEvent> events;
  /** Within one ReportResults: the enabled steps of each run (apply changes no step meanwhile). */
  private final Map<Long, List<StepVersion>> enabledByRun = new HashMap<>();

  TaskRules(
      TaskTable tasks,
      AttemptTable attempts,
      ResourceTable resources,
      StepTable steps,
      RunTable runs,
      MetaTable meta,
      RunRules runRules,
      RetentionRules retention,
      List<StateEvent> events) {
    this.tasks = tasks;
    this.attempts = attempts;
    this.resources = resources;
    this.steps = steps;
    this.runs = runs;
    this.meta = meta;
    this.runRules = runRules;
    this.retention = retention;
    this.events = events;
  }

  /**
   * A PENDING task of a running run whose next attempt number matches becomes ASSIGNED to the
   * node, with a new attempt; any other assignment was decided on an older view and is skipped.
   */
  Reply assign(AssignTasks a) throws SQLException {
    var accepted = new ArrayList<AttemptRef>();
    for (var as : a.assignments()) {
      Integer last = tasks.lastAttemptIfAssignable(as.taskId());
      if (last == null || last + 1 != as.attempt()) {
        continue;
      }
      tasks.assign(as.taskId(), as.attempt(), as.node());
      attempts.start(as.taskId(), as.attempt(), as.node(), a.at());
      accepted.add(new AttemptRef(as.taskId(), as.attempt(), as.node()));
    }
    if (!accepted.isEmpty()) {
      events.add(new StateEvent.AttemptsAssigned(accepted));
    }
    return new Reply.TasksAssigned(accepted.size(), a.assignments().size() - accepted.size());
  }

  /**
   * Records how attempts ended, each only if it is its task's current ASSIGNED attempt on the
   * reporting node; any other report is stale, counted and ignored.
   */
  Reply report(ReportResults r, long index) throws SQLException {
    enabledByRun.clear();
    int rules = meta.rulesVersion();
    retention.chunksArrived(r, rules);
    int accepted = 0;
    Set<Long> touched = new LinkedHashSet<>();
    for (Report report : r.reports()) {
      TaskTable.Current t = tasks.current(report.taskId());
      if (t == null
          || t.state() != TaskState.ASSIGNED
          || t.attempt() != report.attempt()
          || !report.node().equals(t.node())) {
        meta.increment("stale_reports");
        continue;
      }
      accepted++;
      touched.add(t.runId());
      if (retention.anyGone(layoutsOf(report), rules)) {
        lose(t, report.attempt(), report.finishedAt(), "its bytes were collected by gc on their way");
        continue;
      }
      resources.putObject(report.log());
      retention.named(report.log(), rules);
      if (report.succeeded()) {
        succeed(t, report, index, rules);
      } else {
        fail(t, report);
      }
    }
    long at = lastFinish(r);
    for (long run : touched) {
      runRules.settle(run, at, index);
    }
    return new Reply.ReportsApplied(accepted, r.reports().size() - accepted);
  }

  private static List<dev.grit.engine.object.ObjectLayout> layoutsOf(Report report) {
    var out = new ArrayList<dev.grit.engine.object.ObjectLayout>();
    out.add(report.log());
    report.outputs().forEach(o -> out.add(o.layout()));
    return out;
  }

  private static long lastFinish(ReportResults r) {
    long at = 0;
    for (Report report : r.reports()) {
      at = Math.max(at, report.finishedAt());
    }
    return at;
  }

  /**
   * Publishes the attempt's outputs all at once, ends the task SUCCEEDED, and creates a task for
   * every enabled step that consumes a published name.
   */
  private void succeed(TaskTable.Current t, Report report, long index, int rules)
      throws SQLException {
    var names = new ArrayList<String>();
    var published = new ArrayList<ResourceRef>();
    for (var out : report.outputs()) {
      resources.putObject(out.layout());
      retention.named(out.layout(), rules);
      long resourceId =
          resources.publish(t.pipelineId(), out.name(), out.layout(), t.id(), report.finishedAt());
      resources.producedBy(resourceId, t.stepId());
      resources.output(t.id(), report.attempt(), out.name(), resourceId);
      names.add(out.name());
      published.add(new ResourceRef(resourceId, out.name()));
    }
    tasks.end(t.id(), TaskState.SUCCEEDED, null);
    attempts.endReported(report, AttemptOutcome.SUCCEEDED, null);

    // Equal bytes under an existing name find the task that already consumed them: early cut-off.
    int created = 0;
    List<StepVersion> enabled = enabledByRun.get(t.runId());
    if (enabled == null) {
      enabled = Planner.enabled(steps.current(t.pipelineId()), runs.onlySteps(t.runId()));
      enabledByRun.put(t.runId(), enabled);
    }
    for (ResourceRef resource : published) {
      for (TaskKey key : Planner.forResource(enabled, resource)) {
        created += tasks.create(key, t.runId(), 0, index) ? 1 : 0;
      }
    }
    events.add(
        new StateEvent.AttemptEnded(
            t.id(),
            report.attempt(),
            t.runId(),
            t.stepName(),
            report.node(),
            TaskState.SUCCEEDED,
            null,
            names,
            created,
            report.finishedAt() - report.startedAt()));
  }

  /**
   * Back to PENDING after an exponential, jittered back-off while retries remain
   * ({@code backoff·2^(failures−1)·(1 + jitter/5)}), else FAILED.
   */
  private void fail(TaskTable.Current t, Report report) throws SQLException {
    int failures = t.failures() + 1;
    attempts.endReported(report, AttemptOutcome.FAILED, report.error());
    TaskState next;
    if (failures <= t.retries()) {
      long delay = t.retryBackoffMillis() << Math.min(failures - 1, 20);
      long notBefore = report.finishedAt() + delay + delay * report.jitterPermille() / 5000;
      tasks.retryAfterFailure(t.id(), failures, report.error(), notBefore);
      next = TaskState.PENDING;
    } else {
      tasks.countFailures(t.id(), failures);
      tasks.end(t.id(), TaskState.FAILED, report.error());
      next = TaskState.FAILED;
    }
    events.add(
        new StateEvent.AttemptEnded(
            t.id(),
            report.attempt(),
            t.runId(),
            t.stepName(),
            report.node(),
            next,
            report.error(),
            List.of(),
            0,
            report.finishedAt() - report.startedAt()));
  }

  /**
   * A task's current attempt is LOST and the task PENDING again at once, or FAILED once it was
   * lost {@link #MAX_LOSSES} times; an expiry of any other attempt is ignored.
   */
  Reply expire(ExpireAttempts e, long index) throws SQLException {
    int expired = 0;
    Set<Long> touched = new LinkedHashSet<>();
    for (var x : e.expiries()) {
      TaskTable.Current t = tasks.current(x.taskId());
      if (t == null || t.state() != TaskState.ASSIGNED || t.attempt() != x.attempt()) {
        continue;
      }
      expired++;
      touched.add(t.runId());
      lose(t, x.attempt(), e.at(), x.reason());
    }
    for (long run : touched) {
      runRules.settle(run, e.at(), index);
    }
    return new Reply.AttemptsExpired(expired);
  }

  /**
   * The task's current attempt is LOST at {@code at} and the task PENDING again at once, or FAILED
   * once it was lost {@link #MAX_LOSSES} times.
   */
  private void lose(TaskTable.Current t, int attempt, long at, String reason) throws SQLException {
    attempts.endUnreported(t.id(), attempt, AttemptOutcome.LOST, at, reason);
    int losses = t.losses() + 1;
    if (losses >= MAX_LOSSES) {
      tasks.countLosses(t.id(), losses);
      tasks.end(t.id(), TaskState.FAILED, "lost " + losses + " times; last: " + reason);
    } else {
      // Pending again at once, in its old place in line: its not_before is already past, and
      // moving it to the expiry time would put it behind every task created since.
      tasks.retryAfterLoss(t.id(), losses);
    }
    events.add(new StateEvent.AttemptLost(t.id(), attempt, t.runId(), t.node(), reason));
  }
}
