package dev.grit.consensus.state;

import dev.grit.engine.command.SubmitRun;
import java.sql.SQLException;
import java.util.List;

/** Rows of the {@code pipeline} and {@code run} tables. */
final class RunTable {
  private final Statements sql;

  RunTable(Statements sql) {
    this.sql = sql;
  }

  /** The pipeline's id; a pipeline seen for the first time is added. */
  long pipelineId(String name) throws SQLException {
    Long id = sql.queryLong("SELECT id FROM pipeline WHERE name = ?", name);
    return id != null ? id : sql.insert("INSERT INTO pipeline(name) VALUES (?)", name);
  }

  /** The pipeline of a run that exists. */
  long pipelineOf(long runId) throws SQLException {
    return sql.queryLong("SELECT pipeline_id FROM run WHERE id = ?", runId);
  }

  /** The run a request made, or null when it made none yet. */
  Long byRequest(String requestId) throws SQLException {
    return sql.queryLong("SELECT id FROM run WHERE request_id = ?", requestId);
  }

  /** Adds the run that {@code s} asks for, RUNNING; returns its id. */
  long insert(long pipelineId, SubmitRun s) throws SQLException {
    return sql.insert(
        "INSERT INTO run(pipeline_id, request_id, source, manifest, submitted_at, state,"
            + " start_step, only_steps, max_parallel) VALUES (?,?,?,?,?,?,?,?,?)",
        pipelineId,
        s.requestId(),
        s.source(),
        s.manifestText(),
        s.submittedAt(),
        RunState.RUNNING,
        s.startStep(),
        String.join("\n", s.onlySteps()),
        s.maxParallel());
  }

  /** The pipeline's RUNNING runs other than {@code except}. */
  List<Long> runningExcept(long pipelineId, long except) throws SQLException {
    return sql.queryList(
        "SELECT id FROM run WHERE pipeline_id = ? AND state = ? AND id <> ?",
        rs -> rs.getLong(1),
        pipelineId,
        RunState.RUNNING,
        except);
  }

  /** Ends the pipeline's RUNNING runs but {@code by} as SUPERSEDED by it. */
  void supersedeRunning(long pipelineId, long by, long at) throws SQLException {
    sql.update(
        "UPDATE run SET state = ?, finished_at = ?, superseded_by = ?"
            + " WHERE pipeline_id = ? AND state = ? AND id <> ?",
        RunState.SUPERSEDED,
        at,
        by,
        pipelineId,
        RunState.RUNNING,
        by);
  }

  /** The run's state, or null when there is no such run. */
  RunState state(long runId) throws SQLException {
    String state = sql.queryString("SELECT state FROM run WHERE id = ?", runId);
    return state == null ? null : RunState.valueOf(state);
  }

  void end(long runId, RunState state, long at) throws SQLException {
    sql.update("UPDATE run SET state = ?, finished_at = ? WHERE id = ?", state, at, runId);
  }

  /** Ends the run, saying why in {@code reason} (what it did not do, for one). */
  void end(long runId, RunState state, long at, String reason) throws SQLException {
    sql.update(
        "UPDATE run SET state = ?, finished_at = ?, reason = ? WHERE id = ?",
        state,
        at,
        reason,
        runId);
  }

  /** The steps the run was limited to ({@code -step}); empty for all. */
  List<String> onlySteps(long runId) throws SQLException {
    String s = sql.queryString("SELECT only_steps FROM run WHERE id = ?", runId);
    return s == null || s.isEmpty() ? List.of() : List.of(s.split("\n"));
  }
}
