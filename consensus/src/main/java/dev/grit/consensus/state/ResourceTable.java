package dev.grit.consensus.state;

import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.Planner.ResourceRef;
import java.sql.SQLException;
import java.util.List;

/**
 * Rows of the {@code resource} table and those about resources: the {@code object} each names,
 * the step versions that produced it ({@code resource_producer}) and the attempts that published
 * it ({@code task_output}).
 */
final class ResourceTable {
  private final Statements sql;

  ResourceTable(Statements sql) {
    this.sql = sql;
  }

  /** Records the object's chunk list, unless it is known. */
  void putObject(ObjectLayout layout) throws SQLException {
    sql.update(
        "INSERT OR IGNORE INTO object(hash, size, chunks) VALUES (?,?,?)",
        layout.digest().toString(),
        layout.size(),
        ChunkList.encode(layout.chunks()));
  }

  /**
   * The id of the pipeline's resource named {@code name} with the object's bytes; added, produced
   * by {@code producerTask} at {@code createdAt}, unless it exists.
   */
  long publish(long pipelineId, String name, ObjectLayout layout, long producerTask, long createdAt)
      throws SQLException {
    String hash = layout.digest().toString();
    sql.update(
        "INSERT OR IGNORE INTO resource(pipeline_id, name, object_hash, size, producer_task,"
            + " created_at) VALUES (?,?,?,?,?,?)",
        pipelineId,
        name,
        hash,
        layout.size(),
        producerTask,
        createdAt);
    return sql.queryLong(
        "SELECT id FROM resource WHERE pipeline_id = ? AND name = ? AND object_hash = ?",
        pipelineId,
        name,
        hash);
  }

  void producedBy(long resourceId, long stepId) throws SQLException {
    sql.update(
        "INSERT OR IGNORE INTO resource_producer(resource_id, step_id) VALUES (?,?)",
        resourceId,
        stepId);
  }

  /** The task's attempt {@code attempt} published the resource as its output {@code name}. */
  void output(long taskId, int attempt, String name, long resourceId) throws SQLException {
    sql.update(
        "INSERT OR REPLACE INTO task_output(task_id, attempt, name, resource_id) VALUES (?,?,?,?)",
        taskId,
        attempt,
        name,
        resourceId);
  }

  /** The pipeline's resources some current step version produced: what new versions consume. */
  List<ResourceRef> live(long pipelineId) throws SQLException {
    // From the current steps to what they produced (index producer_by_step), not through every
    // resource the pipeline ever had.
    return sql.queryList(
        "SELECT DISTINCT r.id, r.name FROM step s"
            + " JOIN resource_producer p ON p.step_id = s.id"
            + " JOIN resource r ON r.id = p.resource_id"
            + " WHERE s.pipeline_id = ? AND s.current = 1 ORDER BY r.id",
        rs -> new ResourceRef(rs.getLong(1), rs.getString(2)),
        pipelineId);
  }
}
