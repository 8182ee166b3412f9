package dev.grit.consensus.state;

import dev.grit.engine.plan.InputSet;
import java.sql.SQLException;

/**
 * Rows of the {@code input_set} table and its {@code input_set_member}s: the sets of resources
 * gather tasks consume, one row per (pipeline, set hash), so a set seen before is found again.
 */
final class InputSetTable {
  private final Statements sql;

  InputSetTable(Statements sql) {
    this.sql = sql;
  }

  /** The id of the pipeline's set with {@code set}'s hash, or null when it was never recorded. */
  Long find(long pipelineId, InputSet set) throws SQLException {
    return sql.queryLong(
        "SELECT id FROM input_set WHERE pipeline_id = ? AND hash = ?",
        pipelineId,
        set.hash().toString());
  }

  /** The id of the pipeline's set with {@code set}'s hash; added with its members if new. */
  long findOrAdd(long pipelineId, InputSet set) throws SQLException {
    Long id = find(pipelineId, set);
    if (id != null) {
      return id;
    }
    String hash = set.hash().toString();
    long added =
        sql.insert(
            "INSERT INTO input_set(pipeline_id, hash, size) VALUES (?,?,?)",
            pipelineId,
            hash,
            set.members().size());
    for (InputSet.Member m : set.members()) {
      sql.update(
          "INSERT INTO input_set_member(set_id, resource_id) VALUES (?,?)", added, m.resourceId());
    }
    return added;
  }
}
