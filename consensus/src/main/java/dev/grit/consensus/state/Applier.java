package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.ReportResults.Report;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.Planner;
import dev.grit.engine.plan.Planner.ResourceRef;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Applies commands to the record inside the caller's transaction. Deterministic: it reads only
 * the record and the command, never the clock, the node or local files.
 */
final class Applier {
  /** A task lost this many times (its nodes kept dying) fails instead of being retried again. */
  static final int MAX_LOSSES = 10;

  private final Connection c;
  /** The highest rules version this code applies: a record that raises it further stops it. */
  private final int supportedRules;
  private final StepCodec steps = new StepCodec();
  private final List<StateEvent> events = new ArrayList<>();
  /** Within one ReportResults: the enabled steps of each run (apply changes no step meanwhile). */
  private final java.util.Map<Long, List<StepVersion>> enabledByRun = new java.util.HashMap<>();
  private final java.util.Map<String, PreparedStatement> statements = new java.util.HashMap<>();
  private long index;

  Applier(Connection c, int supportedRules) {
    this.c = c;
    this.supportedRules = supportedRules;
  }

  /** Applies {@code command} as log entry {@code index}; returns the reply and the events. */
  ApplyResult apply(long index, Command command) throws SQLException {
    this.index = index;
    events.clear();
    Reply reply;
    if (command instanceof SubmitRun s) {
      reply = submit(s);
    } else if (command instanceof AssignTasks a) {
      reply = assign(a);
    } else if (command instanceof PutChunks p) {
      reply = new Reply.ChunksStored(p.chunks().size());
    } else if (command instanceof ReportResults r) {
      reply = report(r);
    } else if (command instanceof ExpireAttempts e) {
      reply = expire(e);
    } else if (command instanceof CancelRun r) {
      reply = cancel(r);
    } else if (command instanceof RegisterNode n) {
      update(
          "INSERT OR REPLACE INTO node(id, http_address, slots, registered_at, rules_version)"
              + " VALUES (?,?,?,?,?)",
          n.node(),
          n.httpAddress(),
          n.slots(),
          n.at(),
          n.rulesVersion());
      reply = new Reply.NodeRegistered(n.node());
    } else if (command instanceof RaiseRulesVersion r) {
      reply = raiseRules(r);
    } else {
      throw new IllegalArgumentException("no apply rule for " + command);
    }
    return new ApplyResult(reply, events);
  }

  // ---- RaiseRulesVersion -------------------------------------------------------------------

  /**
   * From this entry on the record follows the rules of {@code r.version()}. A replica whose code
   * does not know them must not apply anything more: it would compute other effects than its
   * peers. It stops instead (the caller treats the exception as fatal), to be upgraded.
   */
  private Reply raiseRules(RaiseRulesVersion r) throws SQLException {
    int current = rulesVersion();
    if (r.version() <= current) {
      return new Reply.RulesFollowed(current);
    }
    if (r.version() > supportedRules) {
      throw new UnsupportedRulesException(r.version(), supportedRules);
    }
    update("UPDATE meta SET rules_version = ?", r.version());
    return new Reply.RulesFollowed(r.version());
  }

  /** The rules version the record follows now. */
  int rulesVersion() throws SQLException {
    Long v = queryLong("SELECT rules_version FROM meta");
    return v == null ? RulesVersion.INITIAL : v.intValue();
  }

  // ---- SubmitRun ---------------------------------------------------------------------------

  private Reply submit(SubmitRun s) throws SQLException {
    Long existing = queryLong("SELECT id FROM run WHERE request_id = ?", s.requestId());
    if (existing != null) {
      events.add(new StateEvent.RunSubmitted(existing, s.pipeline(), 0));
      return new Reply.RunSubmitted(existing);
    }
    long pipelineId = pipelineId(s.pipeline());
    update("UPDATE step SET current = 0 WHERE pipeline_id = ?", pipelineId);
    for (Step step : s.steps()) {
      long stepId = registerStep(pipelineId, step);
      update("UPDATE step SET current = 1 WHERE id = ?", stepId);
    }
    long runId =
        insert(
            "INSERT INTO run(pipeline_id, request_id, source, manifest, submitted_at, state,"
                + " start_step, only_steps, max_parallel) VALUES (?,?,?,?,?,?,?,?,?)",
            pipelineId,
            s.requestId(),
            s.source(),
            s.manifestText(),
            s.submittedAt(),
            RunState.RUNNING.name(),
            s.startStep(),
            String.join("\n", s.onlySteps()),
            s.maxParallel());
    var superseded = new ArrayList<Long>();
    var running =
        prepared("SELECT id FROM run WHERE pipeline_id = ? AND state = 'RUNNING' AND id <> ?");
    running.setLong(1, pipelineId);
    running.setLong(2, runId);
    try (ResultSet rs = running.executeQuery()) {
      while (rs.next()) {
        superseded.add(rs.getLong(1));
      }
    }
    superseded.forEach(id -> events.add(new StateEvent.RunEnded(id, RunState.SUPERSEDED)));
    update(
        "UPDATE run SET state = ?, finished_at = ?, superseded_by = ?"
            + " WHERE pipeline_id = ? AND state = ? AND id <> ?",
        RunState.SUPERSEDED.name(),
        s.submittedAt(),
        runId,
        pipelineId,
        RunState.RUNNING.name(),
        runId);
    cancelTasksOfOldVersions(pipelineId, s.submittedAt());

    List<StepVersion> enabled = Planner.enabled(currentSteps(pipelineId), s.onlySteps());
    adoptActiveTasks(enabled, runId);
    int created = 0;
    var planned = Planner.plannedAtSubmission(enabled, s.startStep());
    for (TaskKey key : Planner.forSubmission(planned, liveResources(pipelineId))) {
      created += ensureTask(key, runId, s.submittedAt(), true) ? 1 : 0;
    }
    events.add(new StateEvent.RunSubmitted(runId, s.pipeline(), created));
    finishRunIfDone(runId, s.submittedAt());
    return new Reply.RunSubmitted(runId);
  }

  private long pipelineId(String name) throws SQLException {
    Long id = queryLong("SELECT id FROM pipeline WHERE name = ?", name);
    return id != null ? id : insert("INSERT INTO pipeline(name) VALUES (?)", name);
  }

  /** The step's row for its version: found again when the version existed (a revert), else new. */
  private long registerStep(long pipelineId, Step step) throws SQLException {
    String hash = step.versionHash().toString();
    Long id =
        queryLong(
            "SELECT id FROM step WHERE pipeline_id = ? AND name = ? AND version_hash = ?",
            pipelineId,
            step.name(),
            hash);
    if (id != null) {
      update(
          "UPDATE step SET parallel = ?, retries = ?, retry_backoff_ms = ?, timeout_ms = ?,"
              + " priority = ? WHERE id = ?",
          step.parallel(),
          step.retries(),
          step.retryBackoff().toMillis(),
          step.timeout().toMillis(),
          step.priority(),
          id);
      return id;
    }
    long version =
        queryLong(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM step WHERE pipeline_id = ? AND name = ?",
                pipelineId,
                step.name());
    return insert(
        "INSERT INTO step(pipeline_id, name, version, version_hash, script, inputs, env, parallel,"
            + " retries, retry_backoff_ms, timeout_ms, priority, current, created_index)"
            + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)",
        pipelineId,
        step.name(),
        version,
        hash,
        step.script(),
        steps.encodeInputs(step.inputs()),
        steps.encodeEnv(step.env()),
        step.parallel(),
        step.retries(),
        step.retryBackoff().toMillis(),
        step.timeout().toMillis(),
        step.priority(),
        index);
  }

  /** Active tasks of step versions the manifest no longer has would publish stale outputs. */
  private void cancelTasksOfOldVersions(long pipelineId, long at) throws SQLException {
    var cancelled = new ArrayList<AttemptRef>();
    var ids = new ArrayList<Long>();
    try (var ps =
        c.prepareStatement(
            "SELECT t.id, t.state, t.attempt, t.node FROM task t JOIN step s ON s.id = t.step_id"
                + " WHERE s.pipeline_id = ? AND s.current = 0 AND t.state IN ('PENDING','ASSIGNED')")) {
      ps.setLong(1, pipelineId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
          if (TaskState.ASSIGNED.name().equals(rs.getString(2))) {
            cancelled.add(new AttemptRef(rs.getLong(1), rs.getInt(3), rs.getString(4)));
          }
        }
      }
    }
    for (long id : ids) {
      endTask(id, TaskState.CANCELLED, "step version superseded");
    }
    for (AttemptRef a : cancelled) {
      endAttempt(a.taskId(), a.attempt(), "CANCELLED", null, null, at, null, "step version superseded");
    }
    if (!cancelled.isEmpty()) {
      events.add(new StateEvent.AttemptsCancelled(cancelled));
    }
  }

  /** Unfinished tasks of earlier runs of the pipeline continue as part of the new run. */
  private void adoptActiveTasks(List<StepVersion> enabled, long runId) throws SQLException {
    for (StepVersion v : enabled) {
      update(
          "UPDATE task SET run_id = ? WHERE step_id = ? AND state IN ('PENDING','ASSIGNED')",
          runId,
          v.stepId());
    }
  }

  private List<StepVersion> currentSteps(long pipelineId) throws SQLException {
    var out = new ArrayList<StepVersion>();
    var ps =
        prepared(
            "SELECT id, name, script, inputs, env, parallel, retries, retry_backoff_ms,"
                + " timeout_ms, priority FROM step WHERE pipeline_id = ? AND current = 1 ORDER BY id");
    ps.setLong(1, pipelineId);
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new StepVersion(rs.getLong(1), steps.fromRow(rs)));
      }
    }
    return out;
  }

  /** Resources some current step version produced: the ones new step versions consume. */
  private List<ResourceRef> liveResources(long pipelineId) throws SQLException {
    var out = new ArrayList<ResourceRef>();
    try (var ps =
        c.prepareStatement(
            "SELECT r.id, r.name FROM resource r WHERE r.pipeline_id = ? AND EXISTS ("
                + "SELECT 1 FROM resource_producer p JOIN step s ON s.id = p.step_id"
                + " WHERE p.resource_id = r.id AND s.current = 1) ORDER BY r.id")) {
      ps.setLong(1, pipelineId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new ResourceRef(rs.getLong(1), rs.getString(2)));
        }
      }
    }
    return out;
  }

  /**
   * Makes the task exist and be part of {@code runId}. With {@code retryEnded}, a task that had
   * failed or been cancelled is tried again with a fresh retry budget (a resubmission retries).
   * Returns true when a task was created or revived.
   */
  private boolean ensureTask(TaskKey key, long runId, long notBefore, boolean retryEnded)
      throws SQLException {
    int inserted =
        update(
            "INSERT OR IGNORE INTO task(step_id, input_resource_id, run_id, state, attempt,"
                + " not_before, failures, losses, created_index) VALUES (?,?,?,'PENDING',0,?,0,0,?)",
            key.stepId(),
            key.inputResourceId(),
            runId,
            notBefore,
            index);
    if (inserted > 0 || !retryEnded) {
      return inserted > 0;
    }
    return update(
            "UPDATE task SET state = 'PENDING', run_id = ?, failures = 0, losses = 0, error = NULL,"
                + " node = NULL, not_before = ? WHERE step_id = ? AND input_resource_id = ?"
                + " AND state IN ('FAILED','CANCELLED')",
            runId,
            notBefore,
            key.stepId(),
            key.inputResourceId())
        > 0;
  }

  // ---- AssignTasks -------------------------------------------------------------------------

  private Reply assign(AssignTasks a) throws SQLException {
    var accepted = new ArrayList<AttemptRef>();
    try (var check =
            c.prepareStatement(
                "SELECT t.attempt FROM task t JOIN run r ON r.id = t.run_id"
                    + " WHERE t.id = ? AND t.state = 'PENDING' AND r.state = 'RUNNING'");
        var task =
            c.prepareStatement(
                "UPDATE task SET state = 'ASSIGNED', attempt = ?, node = ? WHERE id = ?");
        var attempt =
            c.prepareStatement(
                "INSERT INTO attempt(task_id, n, node, assigned_at, outcome)"
                    + " VALUES (?,?,?,?,'RUNNING')")) {
      for (var as : a.assignments()) {
        check.setLong(1, as.taskId());
        try (ResultSet rs = check.executeQuery()) {
          // A decision made on an older view: the task moved on meanwhile.
          if (!rs.next() || rs.getInt(1) + 1 != as.attempt()) {
            continue;
          }
        }
        task.setInt(1, as.attempt());
        task.setString(2, as.node());
        task.setLong(3, as.taskId());
        task.executeUpdate();
        attempt.setLong(1, as.taskId());
        attempt.setInt(2, as.attempt());
        attempt.setString(3, as.node());
        attempt.setLong(4, a.at());
        attempt.executeUpdate();
        accepted.add(new AttemptRef(as.taskId(), as.attempt(), as.node()));
      }
    }
    if (!accepted.isEmpty()) {
      events.add(new StateEvent.AttemptsAssigned(accepted));
    }
    return new Reply.TasksAssigned(accepted.size(), a.assignments().size() - accepted.size());
  }

  // ---- ReportResults -----------------------------------------------------------------------

  private Reply report(ReportResults r) throws SQLException {
    enabledByRun.clear();
    int accepted = 0;
    Set<Long> runs = new LinkedHashSet<>();
    for (Report report : r.reports()) {
      CurrentTask t = currentTask(report.taskId());
      if (t == null
          || t.state != TaskState.ASSIGNED
          || t.attempt != report.attempt()
          || !report.node().equals(t.node)) {
        increment("stale_reports");
        continue;
      }
      accepted++;
      runs.add(t.runId);
      putObject(report.log());
      if (report.succeeded()) {
        succeed(t, report);
      } else {
        fail(t, report);
      }
    }
    for (long run : runs) {
      finishRunIfDone(run, lastFinish(r));
    }
    return new Reply.ReportsApplied(accepted, r.reports().size() - accepted);
  }

  private static long lastFinish(ReportResults r) {
    long at = 0;
    for (Report report : r.reports()) {
      at = Math.max(at, report.finishedAt());
    }
    return at;
  }

  private void succeed(CurrentTask t, Report report) throws SQLException {
    var names = new ArrayList<String>();
    var published = new ArrayList<ResourceRef>();
    for (var out : report.outputs()) {
      putObject(out.layout());
      String hash = out.layout().digest().toString();
      update(
          "INSERT OR IGNORE INTO resource(pipeline_id, name, object_hash, size, producer_task,"
              + " created_at) VALUES (?,?,?,?,?,?)",
          t.pipelineId,
          out.name(),
          hash,
          out.layout().size(),
          t.id,
          report.finishedAt());
      long resourceId =
          queryLong(
              "SELECT id FROM resource WHERE pipeline_id = ? AND name = ? AND object_hash = ?",
              t.pipelineId,
              out.name(),
              hash);
      update(
          "INSERT OR IGNORE INTO resource_producer(resource_id, step_id) VALUES (?,?)",
          resourceId,
          t.stepId);
      update(
          "INSERT OR REPLACE INTO task_output(task_id, attempt, name, resource_id) VALUES (?,?,?,?)",
          t.id,
          report.attempt(),
          out.name(),
          resourceId);
      names.add(out.name());
      published.add(new ResourceRef(resourceId, out.name()));
    }
    endTask(t.id, TaskState.SUCCEEDED, null);
    endAttempt(
        t.id,
        report.attempt(),
        "SUCCEEDED",
        report.startedAt(),
        report.exitCode(),
        report.finishedAt(),
        report.log().digest().toString(),
        null);

    // Equal bytes under an existing name find the task that already consumed them: early cut-off.
    int created = 0;
    List<StepVersion> enabled = enabledByRun.get(t.runId);
    if (enabled == null) {
      enabled = Planner.enabled(currentSteps(t.pipelineId), onlySteps(t.runId));
      enabledByRun.put(t.runId, enabled);
    }
    for (ResourceRef resource : published) {
      for (TaskKey key : Planner.forResource(enabled, resource)) {
        created += ensureTask(key, t.runId, 0, false) ? 1 : 0;
      }
    }
    events.add(
        new StateEvent.AttemptEnded(
            t.id,
            report.attempt(),
            t.runId,
            t.stepName,
            report.node(),
            TaskState.SUCCEEDED,
            null,
            names,
            created,
            report.finishedAt() - report.startedAt()));
  }

  private void fail(CurrentTask t, Report report) throws SQLException {
    int failures = t.failures + 1;
    endAttempt(
        t.id,
        report.attempt(),
        "FAILED",
        report.startedAt(),
        report.exitCode(),
        report.finishedAt(),
        report.log().digest().toString(),
        report.error());
    TaskState next;
    if (failures <= t.retries) {
      long delay = t.retryBackoffMillis << Math.min(failures - 1, 20);
      long notBefore = report.finishedAt() + delay + delay * report.jitterPermille() / 5000;
      update(
          "UPDATE task SET state = 'PENDING', failures = ?, node = NULL, error = ?, not_before = ?"
              + " WHERE id = ?",
          failures,
          report.error(),
          notBefore,
          t.id);
      next = TaskState.PENDING;
    } else {
      update("UPDATE task SET failures = ? WHERE id = ?", failures, t.id);
      endTask(t.id, TaskState.FAILED, report.error());
      next = TaskState.FAILED;
    }
    events.add(
        new StateEvent.AttemptEnded(
            t.id,
            report.attempt(),
            t.runId,
            t.stepName,
            report.node(),
            next,
            report.error(),
            List.of(),
            0,
            report.finishedAt() - report.startedAt()));
  }

  private void putObject(ObjectLayout layout) throws SQLException {
    update(
        "INSERT OR IGNORE INTO object(hash, size, chunks) VALUES (?,?,?)",
        layout.digest().toString(),
        layout.size(),
        ChunkList.encode(layout.chunks()));
  }

  // ---- ExpireAttempts ----------------------------------------------------------------------

  private Reply expire(ExpireAttempts e) throws SQLException {
    int expired = 0;
    Set<Long> runs = new LinkedHashSet<>();
    for (var x : e.expiries()) {
      CurrentTask t = currentTask(x.taskId());
      if (t == null || t.state != TaskState.ASSIGNED || t.attempt != x.attempt()) {
        continue;
      }
      expired++;
      runs.add(t.runId);
      endAttempt(t.id, x.attempt(), "LOST", null, null, e.at(), null, x.reason());
      int losses = t.losses + 1;
      if (losses >= MAX_LOSSES) {
        update("UPDATE task SET losses = ? WHERE id = ?", losses, t.id);
        endTask(t.id, TaskState.FAILED, "lost " + losses + " times; last: " + x.reason());
      } else {
        // Pending again at once, in its old place in line: its not_before is already past, and
        // moving it to the expiry time would put it behind every task created since.
        update(
            "UPDATE task SET state = 'PENDING', losses = ?, node = NULL WHERE id = ?", losses, t.id);
      }
      events.add(new StateEvent.AttemptLost(t.id, x.attempt(), t.runId, t.node, x.reason()));
    }
    for (long run : runs) {
      finishRunIfDone(run, e.at());
    }
    return new Reply.AttemptsExpired(expired);
  }

  // ---- CancelRun ---------------------------------------------------------------------------

  private Reply cancel(CancelRun r) throws SQLException {
    String state = queryString("SELECT state FROM run WHERE id = ?", r.runId());
    if (state == null) {
      return new Reply.NoSuchRun(r.runId());
    }
    if (!RunState.RUNNING.name().equals(state)) {
      return new Reply.RunAlreadyEnded(r.runId(), RunState.valueOf(state));
    }
    var running = new ArrayList<AttemptRef>();
    try (var ps =
        c.prepareStatement(
            "SELECT id, attempt, node FROM task WHERE run_id = ? AND state = 'ASSIGNED'")) {
      ps.setLong(1, r.runId());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          running.add(new AttemptRef(rs.getLong(1), rs.getInt(2), rs.getString(3)));
        }
      }
    }
    for (AttemptRef a : running) {
      endAttempt(a.taskId(), a.attempt(), "CANCELLED", null, null, r.at(), null, "cancelled");
    }
    update(
        "UPDATE task SET state = 'CANCELLED', error = 'cancelled'"
            + " WHERE run_id = ? AND state IN ('PENDING','ASSIGNED')",
        r.runId());
    update(
        "UPDATE run SET state = ?, finished_at = ? WHERE id = ?",
        RunState.CANCELLED.name(),
        r.at(),
        r.runId());
    if (!running.isEmpty()) {
      events.add(new StateEvent.AttemptsCancelled(running));
    }
    events.add(new StateEvent.RunEnded(r.runId(), RunState.CANCELLED));
    return new Reply.RunCancelled(r.runId());
  }

  // ---- shared ------------------------------------------------------------------------------

  /** A run ends when none of its tasks is pending or assigned; FAILED if any of them failed. */
  private void finishRunIfDone(long runId, long at) throws SQLException {
    if (!RunState.RUNNING.name().equals(queryString("SELECT state FROM run WHERE id = ?", runId))) {
      return;
    }
    if (queryLong(
            "SELECT COUNT(*) FROM task WHERE run_id = ? AND state IN ('PENDING','ASSIGNED')", runId)
        > 0) {
      return;
    }
    boolean failed =
        queryLong("SELECT COUNT(*) FROM task WHERE run_id = ? AND state = 'FAILED'", runId) > 0;
    RunState end = failed ? RunState.FAILED : RunState.SUCCEEDED;
    update("UPDATE run SET state = ?, finished_at = ? WHERE id = ?", end.name(), at, runId);
    events.add(new StateEvent.RunEnded(runId, end));
  }

  private void endTask(long taskId, TaskState state, String error) throws SQLException {
    update("UPDATE task SET state = ?, error = ? WHERE id = ?", state.name(), error, taskId);
  }

  private void endAttempt(
      long taskId,
      int n,
      String outcome,
      Long startedAt,
      Integer exitCode,
      long finishedAt,
      String logHash,
      String error)
      throws SQLException {
    update(
        "UPDATE attempt SET outcome = ?, started_at = ?, exit_code = ?, finished_at = ?,"
            + " log_hash = ?, error = ? WHERE task_id = ? AND n = ?",
        outcome,
        startedAt,
        exitCode,
        finishedAt,
        logHash,
        error,
        taskId,
        n);
  }

  private List<String> onlySteps(long runId) throws SQLException {
    String s = queryString("SELECT only_steps FROM run WHERE id = ?", runId);
    return s == null || s.isEmpty() ? List.of() : List.of(s.split("\n"));
  }

  private void increment(String counter) throws SQLException {
    update(
        "INSERT INTO counter(name, value) VALUES (?, 1)"
            + " ON CONFLICT(name) DO UPDATE SET value = value + 1",
        counter);
  }

  private record CurrentTask(
      long id,
      TaskState state,
      int attempt,
      String node,
      long stepId,
      String stepName,
      long pipelineId,
      long runId,
      int failures,
      int losses,
      int retries,
      long retryBackoffMillis) {}

  private CurrentTask currentTask(long taskId) throws SQLException {
    var ps =
        prepared(
            "SELECT t.state, t.attempt, t.node, t.step_id, s.name, s.pipeline_id, t.run_id,"
                + " t.failures, t.losses, s.retries, s.retry_backoff_ms"
                + " FROM task t JOIN step s ON s.id = t.step_id WHERE t.id = ?");
    ps.setLong(1, taskId);
    try (ResultSet rs = ps.executeQuery()) {
      if (!rs.next()) {
        return null;
      }
      return new CurrentTask(
          taskId,
          TaskState.valueOf(rs.getString(1)),
          rs.getInt(2),
          rs.getString(3),
          rs.getLong(4),
          rs.getString(5),
          rs.getLong(6),
          rs.getLong(7),
          rs.getInt(8),
          rs.getInt(9),
          rs.getInt(10),
          rs.getLong(11));
    }
  }

  // ---- JDBC helpers ------------------------------------------------------------------------

  private int update(String sql, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    return ps.executeUpdate();
  }

  private long insert(String sql, Object... args) throws SQLException {
    update(sql, args);
    return queryLong("SELECT last_insert_rowid()");
  }

  private Long queryLong(String sql, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : null;
    }
  }

  private String queryString(String sql, Object... args) throws SQLException {
    PreparedStatement ps = prepared(sql);
    bind(ps, args);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** Statements are prepared once per SQL text: apply runs thousands of them per second. */
  private PreparedStatement prepared(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = c.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  void close() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // closing the connection closes it too
      }
    }
    statements.clear();
  }

  static void bind(PreparedStatement ps, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i]);
    }
  }
}
