package dev.grit.consensus.state;

import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.Planner.StepVersion;
import java.sql.SQLException;
import java.util.List;

/** Rows of the {@code step} table: one per version of a step of a pipeline. */
final class StepTable {
  private final Statements sql;
  private final StepCodec codec = new StepCodec();

  StepTable(Statements sql) {
    this.sql = sql;
  }

  /** The row of the step's version with hash {@code hash}, or null when it is new. */
  Long find(long pipelineId, String name, String hash) throws SQLException {
    return sql.queryLong(
        "SELECT id FROM step WHERE pipeline_id = ? AND name = ? AND version_hash = ?",
        pipelineId,
        name,
        hash);
  }

  /** Updates the options that are not part of the version (parallel, retries, ...). */
  void updateOptions(long id, Step step) throws SQLException {
    sql.update(
        "UPDATE step SET parallel = ?, retries = ?, retry_backoff_ms = ?, timeout_ms = ?,"
            + " priority = ? WHERE id = ?",
        step.parallel(),
        step.retries(),
        step.retryBackoff().toMillis(),
        step.timeout().toMillis(),
        step.priority(),
        id);
  }

  /** The version number a new version of the step gets: one past its highest. */
  long nextVersion(long pipelineId, String name) throws SQLException {
    return sql.queryLong(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM step WHERE pipeline_id = ? AND name = ?",
        pipelineId,
        name);
  }

  /** Adds a version of the step, not current yet; returns its row id. */
  long insert(long pipelineId, Step step, long version, String hash, long createdIndex)
      throws SQLException {
    return sql.insert(
        "INSERT INTO step(pipeline_id, name, version, version_hash, script, inputs, env, parallel,"
            + " retries, retry_backoff_ms, timeout_ms, priority, current, created_index, gather)"
            + " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?,?)",
        pipelineId,
        step.name(),
        version,
        hash,
        step.script(),
        codec.encodeInputs(step.inputs()),
        codec.encodeEnv(step.env()),
        step.parallel(),
        step.retries(),
        step.retryBackoff().toMillis(),
        step.timeout().toMillis(),
        step.priority(),
        createdIndex,
        step.gather() ? 1 : 0);
  }

  /** No version of the pipeline's steps is current any more. */
  void retireAll(long pipelineId) throws SQLException {
    sql.update("UPDATE step SET current = 0 WHERE pipeline_id = ?", pipelineId);
  }

  void makeCurrent(long id) throws SQLException {
    sql.update("UPDATE step SET current = 1 WHERE id = ?", id);
  }

  /** The step's place in the manifest last submitted: the order gather steps settle in. */
  void place(long id, int position) throws SQLException {
    sql.update("UPDATE step SET position = ? WHERE id = ?", position, id);
  }

  /** The pipeline's current step versions, in the order they were first registered. */
  List<StepVersion> current(long pipelineId) throws SQLException {
    return sql.queryList(
        "SELECT id, name, script, inputs, env, parallel, retries, retry_backoff_ms,"
            + " timeout_ms, priority, gather FROM step WHERE pipeline_id = ? AND current = 1"
            + " ORDER BY id",
        rs -> new StepVersion(rs.getLong(1), codec.fromRow(rs, rs.getInt(11) != 0)),
        pipelineId);
  }

  /** The pipeline's current gather steps, in manifest order. */
  List<StepVersion> currentGathers(long pipelineId) throws SQLException {
    return sql.queryList(
        "SELECT id, name, script, inputs, env, parallel, retries, retry_backoff_ms,"
            + " timeout_ms, priority FROM step WHERE pipeline_id = ? AND current = 1"
            + " AND gather = 1 ORDER BY position, id",
        rs -> new StepVersion(rs.getLong(1), codec.fromRow(rs, true)),
        pipelineId);
  }

  /**
   * The gather task over the step's latest set ({@code 0}: none, its set was empty): its outputs
   * are the step's current ones.
   */
  void gathered(long id, long taskId) throws SQLException {
    sql.update("UPDATE step SET gathered_task = ? WHERE id = ? AND gathered_task <> ?", taskId, id, taskId);
  }
}
