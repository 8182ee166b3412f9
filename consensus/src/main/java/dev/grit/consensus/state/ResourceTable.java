package dev.grit.consensus.state;

import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.InputSet;
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

  /**
   * The pipeline's current resources: what its current step versions made from current inputs.
   * That is the outputs of the succeeded seed tasks of current start steps and of the latest
   * succeeded task of each current gather step, and, from those on, the outputs of every
   * succeeded task of a current step whose input is current. Unlike {@link #live}, a resource made
   * from an input that is no longer current (the output of an edited step's old version, say) is
   * not, although the step that made it from that input is still current: a gather step sees the
   * pipeline as its current versions made it, one generation, not every output ever published.
   */
  List<InputSet.Member> current(long pipelineId) throws SQLException {
    return sql.queryList(
        CURRENT + " SELECT r.id, r.name, r.object_hash FROM resource r JOIN cur ON cur.id = r.id"
            + " ORDER BY r.name, r.object_hash",
        rs -> new InputSet.Member(rs.getLong(1), rs.getString(2), Digest.valueOf(rs.getString(3))),
        pipelineId,
        TaskState.SUCCEEDED);
  }

  /**
   * The ids of the current resources of pipeline {@code ?1} as a table {@code cur(id)}, with
   * {@code ?2} bound to SUCCEEDED; see {@link #current}. A recursive walk from the seed and
   * gather tasks down the inputs of current steps' tasks.
   */
  static final String CURRENT =
      "WITH RECURSIVE cur(id) AS ("
          + " SELECT o.resource_id FROM step s JOIN task t ON t.step_id = s.id"
          + " JOIN task_output o ON o.task_id = t.id"
          + " WHERE s.pipeline_id = ?1 AND s.current = 1 AND t.state = ?2"
          + " AND ((s.gather = 0 AND t.input_resource_id = 0 AND t.input_set_id = 0)"
          + " OR (s.gather = 1 AND t.id = s.gathered_task))"
          + " UNION"
          + " SELECT o.resource_id FROM cur JOIN task t ON t.input_resource_id = cur.id"
          + " JOIN step s ON s.id = t.step_id JOIN task_output o ON o.task_id = t.id"
          + " WHERE s.current = 1 AND t.state = ?2)";
}
