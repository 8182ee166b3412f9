package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.plan.Planner.TaskKey;
import java.sql.SQLException;
import java.util.List;

/** Rows of the {@code task} table: one per (step version, input resource). */
final class TaskTable {
  private static final TaskState PENDING = TaskState.PENDING;
  private static final TaskState ASSIGNED = TaskState.ASSIGNED;

  private final Statements sql;

  TaskTable(Statements sql) {
    this.sql = sql;
  }

  /** A task as the apply rules need it: its row and its step's retry options. */
  record Current(
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

  /** An unfinished task: its state, and its current attempt while it is ASSIGNED. */
  record Active(long id, TaskState state, int attempt, String node) {}

  /** The task, or null when there is none. */
  Current current(long taskId) throws SQLException {
    return sql.queryOne(
        "SELECT t.state, t.attempt, t.node, t.step_id, s.name, s.pipeline_id, t.run_id,"
            + " t.failures, t.losses, s.retries, s.retry_backoff_ms"
            + " FROM task t JOIN step s ON s.id = t.step_id WHERE t.id = ?",
        rs ->
            new Current(
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
                rs.getLong(11)),
        taskId);
  }

  /** Adds the task PENDING unless it exists; returns true when it was added. */
  boolean create(TaskKey key, long runId, long notBefore, long createdIndex) throws SQLException {
    return sql.update(
            "INSERT OR IGNORE INTO task(step_id, input_resource_id, run_id, state, attempt,"
                + " not_before, failures, losses, created_index, input_set_id)"
                + " VALUES (?,?,?,?,0,?,0,0,?,?)",
            key.stepId(),
            key.inputResourceId(),
            runId,
            PENDING,
            notBefore,
            createdIndex,
            key.inputSetId())
        > 0;
  }

  /** A task found by its identity: its id, state and run. */
  record Existing(long id, TaskState state, long runId) {}

  /** The task of {@code key}, or null when there is none. */
  Existing find(TaskKey key) throws SQLException {
    return sql.queryOne(
        "SELECT id, state, run_id FROM task"
            + " WHERE step_id = ? AND input_resource_id = ? AND input_set_id = ?",
        rs -> new Existing(rs.getLong(1), TaskState.valueOf(rs.getString(2)), rs.getLong(3)),
        key.stepId(),
        key.inputResourceId(),
        key.inputSetId());
  }

  /**
   * Makes the task PENDING in {@code runId} again with a fresh retry budget, if it had FAILED or
   * been CANCELLED; returns true when it had.
   */
  boolean revive(TaskKey key, long runId, long notBefore) throws SQLException {
    return sql.update(
            "UPDATE task SET state = ?, run_id = ?, failures = 0, losses = 0, error = NULL,"
                + " node = NULL, not_before = ? WHERE step_id = ? AND input_resource_id = ?"
                + " AND input_set_id = ? AND state IN (?,?)",
            PENDING,
            runId,
            notBefore,
            key.stepId(),
            key.inputResourceId(),
            key.inputSetId(),
            TaskState.FAILED,
            TaskState.CANCELLED)
        > 0;
  }

  /**
   * The run's FAILED and CANCELLED tasks of current step versions (only {@code taskId} unless it
   * is 0), in id order.
   */
  List<Long> retriableIn(long runId, long taskId) throws SQLException {
    return sql.queryList(
        "SELECT t.id FROM task t JOIN step s ON s.id = t.step_id WHERE t.run_id = ?"
            + " AND s.current = 1 AND t.state IN (?,?) AND (? = 0 OR t.id = ?) ORDER BY t.id",
        rs -> rs.getLong(1),
        runId,
        TaskState.FAILED,
        TaskState.CANCELLED,
        taskId,
        taskId);
  }

  /** The task is PENDING again in its run, with a fresh retry budget, from {@code notBefore} on. */
  void retry(long taskId, long notBefore) throws SQLException {
    sql.update(
        "UPDATE task SET state = ?, failures = 0, losses = 0, error = NULL, node = NULL,"
            + " not_before = ? WHERE id = ?",
        PENDING,
        notBefore,
        taskId);
  }

  /** The unfinished tasks of the pipeline's step versions that are no longer current. */
  List<Active> activeOfRetiredSteps(long pipelineId) throws SQLException {
    return sql.queryList(
        "SELECT t.id, t.state, t.attempt, t.node FROM task t JOIN step s ON s.id = t.step_id"
            + " WHERE s.pipeline_id = ? AND s.current = 0 AND t.state IN (?,?)",
        rs -> new Active(rs.getLong(1), TaskState.valueOf(rs.getString(2)), rs.getInt(3), rs.getString(4)),
        pipelineId,
        PENDING,
        ASSIGNED);
  }

  /** Moves the task into {@code runId} if it is unfinished. */
  void moveIfActive(long taskId, long runId) throws SQLException {
    sql.update(
        "UPDATE task SET run_id = ? WHERE id = ? AND state IN (?,?)", runId, taskId, PENDING, ASSIGNED);
  }

  /** Moves the step's unfinished tasks into {@code runId}. */
  void adopt(long stepId, long runId) throws SQLException {
    sql.update(
        "UPDATE task SET run_id = ? WHERE step_id = ? AND state IN (?,?)",
        runId,
        stepId,
        PENDING,
        ASSIGNED);
  }

  /**
   * The number of the task's last attempt when it is PENDING in a RUNNING run, so may be assigned
   * now; null otherwise.
   */
  Integer lastAttemptIfAssignable(long taskId) throws SQLException {
    return sql.queryOne(
        "SELECT t.attempt FROM task t JOIN run r ON r.id = t.run_id"
            + " WHERE t.id = ? AND t.state = ? AND r.state = ?",
        rs -> rs.getInt(1),
        taskId,
        PENDING,
        RunState.RUNNING);
  }

  void assign(long taskId, int attempt, String node) throws SQLException {
    sql.update(
        "UPDATE task SET state = ?, attempt = ?, node = ? WHERE id = ?",
        ASSIGNED,
        attempt,
        node,
        taskId);
  }

  /** Back to PENDING after a failure, not before {@code notBefore}. */
  void retryAfterFailure(long taskId, int failures, String error, long notBefore)
      throws SQLException {
    sql.update(
        "UPDATE task SET state = ?, failures = ?, node = NULL, error = ?, not_before = ?"
            + " WHERE id = ?",
        PENDING,
        failures,
        error,
        notBefore,
        taskId);
  }

  /** Back to PENDING after a lost attempt, keeping its {@code not_before}. */
  void retryAfterLoss(long taskId, int losses) throws SQLException {
    sql.update(
        "UPDATE task SET state = ?, losses = ?, node = NULL WHERE id = ?", PENDING, losses, taskId);
  }

  void countFailures(long taskId, int failures) throws SQLException {
    sql.update("UPDATE task SET failures = ? WHERE id = ?", failures, taskId);
  }

  void countLosses(long taskId, int losses) throws SQLException {
    sql.update("UPDATE task SET losses = ? WHERE id = ?", losses, taskId);
  }

  void end(long taskId, TaskState state, String error) throws SQLException {
    sql.update("UPDATE task SET state = ?, error = ? WHERE id = ?", state, error, taskId);
  }

  /** The current attempts of the run's ASSIGNED tasks. */
  List<AttemptRef> assignedIn(long runId) throws SQLException {
    return sql.queryList(
        "SELECT id, attempt, node FROM task WHERE run_id = ? AND state = ?",
        rs -> new AttemptRef(rs.getLong(1), rs.getInt(2), rs.getString(3)),
        runId,
        ASSIGNED);
  }

  /** Ends every unfinished task of the run CANCELLED. */
  void cancelActiveIn(long runId, String error) throws SQLException {
    sql.update(
        "UPDATE task SET state = ?, error = ? WHERE run_id = ? AND state IN (?,?)",
        TaskState.CANCELLED,
        error,
        runId,
        PENDING,
        ASSIGNED);
  }

  boolean anyActiveIn(long runId) throws SQLException {
    return sql.queryLong(
            "SELECT EXISTS (SELECT 1 FROM task WHERE run_id = ? AND state IN (?,?))",
            runId,
            PENDING,
            ASSIGNED)
        > 0;
  }

  /** The first of the run's FAILED tasks, with its step's name, and how many there are. */
  record Failures(int count, long firstTask, String firstStep) {}

  Failures failuresIn(long runId) throws SQLException {
    return sql.queryOne(
        "SELECT COUNT(*), MIN(t.id), (SELECT s.name FROM task f JOIN step s ON s.id = f.step_id"
            + " WHERE f.run_id = ?1 AND f.state = ?2 ORDER BY f.id LIMIT 1)"
            + " FROM task t WHERE t.run_id = ?1 AND t.state = ?2",
        rs -> new Failures(rs.getInt(1), rs.getLong(2), rs.getString(3)),
        runId,
        TaskState.FAILED);
  }

  boolean anyFailedIn(long runId) throws SQLException {
    return sql.queryLong(
            "SELECT EXISTS (SELECT 1 FROM task WHERE run_id = ? AND state = ?)",
            runId,
            TaskState.FAILED)
        > 0;
  }
}
