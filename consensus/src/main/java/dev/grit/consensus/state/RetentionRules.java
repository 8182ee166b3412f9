package dev.grit.consensus.state;

import dev.grit.engine.command.CarriesChunks;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The apply rules of retention ({@link Gc}), and what they mean for chunks on their way.
 *
 * <p>A {@link Gc} forgets the history of runs that ended before its cut-off: the attempts of their
 * finished tasks (and the outputs those attempts published); the tasks themselves where nothing
 * would plan them again (their step version is no longer current, or their input goes); the
 * resources they produced that no current step version produced, no unfinished task consumes and no
 * remaining attempt published and no gather task's input set holds; the runs (a gather task and its
 * history stay, as its set's resources do). Then the objects no resource and no attempt's log names
 * any more, and of their chunks those no remaining object uses: every member deletes their bytes
 * once the entry is applied ({@link StateEvent.ChunksCollected}). A running run, a task still to
 * run and a current resource are never touched.
 *
 * <p>A report may be on its way while its bytes are collected: a worker that had a chunk did not
 * send it, the leader that had it let the report through, and a Gc applied before the report
 * deleted it. So the chunks a Gc deleted are remembered ({@code collected_chunk}) until the next
 * Gc; an entry that carries one of them brings it back, and a report that points at one that is
 * still gone is applied as a lost attempt, to run again, instead of publishing missing bytes.
 */
final class RetentionRules {
  private final Statements sql;
  private final MetaTable meta;
  private final List<StateEvent> events;

  RetentionRules(Statements sql, MetaTable meta, List<StateEvent> events) {
    this.sql = sql;
    this.meta = meta;
    this.events = events;
  }

  Reply gc(Gc g, long index) throws SQLException {
    int rules = meta.rulesVersion();
    if (rules < RulesVersion.RETENTION) {
      return new Reply.GcNotYet(rules);
    }
    for (String table : List.of("gc_run", "gc_task", "gc_task_row", "gc_resource")) {
      sql.update("CREATE TEMP TABLE IF NOT EXISTS " + table + "(id INTEGER PRIMARY KEY)");
      sql.update("DELETE FROM temp." + table);
    }
    sql.update("CREATE TEMP TABLE IF NOT EXISTS gc_object(hash TEXT PRIMARY KEY)");
    sql.update("DELETE FROM temp.gc_object");

    int runs =
        sql.update(
            "INSERT INTO temp.gc_run SELECT id FROM run WHERE state <> ? AND finished_at < ?",
            RunState.RUNNING,
            g.cutoff());
    if (runs == 0) {
      List<Digest> loose = unused(sql, new LinkedHashSet<>(looseSinceLastGc()));
      if (!loose.isEmpty()) {
        remember(loose, index);
      }
      return new Reply.Collected(0, 0, 0, 0, 0, loose.size());
    }
    // Finished tasks of those runs: their attempt history goes.
    sql.update(
        "INSERT INTO temp.gc_task SELECT t.id FROM task t"
            + " WHERE t.run_id IN (SELECT id FROM temp.gc_run) AND t.state NOT IN (?,?)"
            // A gather task keeps its history, as its inputs stay: its set names it.
            + " AND t.input_set_id = 0",
        TaskState.PENDING,
        TaskState.ASSIGNED);
    // Their resources that nothing current needs.
    sql.update(
        "INSERT INTO temp.gc_resource SELECT r.id FROM resource r"
            + " WHERE r.producer_task IN (SELECT id FROM temp.gc_task)"
            + " AND NOT EXISTS (SELECT 1 FROM resource_producer p JOIN step s ON s.id = p.step_id"
            + "   WHERE p.resource_id = r.id AND s.current = 1)"
            + " AND NOT EXISTS (SELECT 1 FROM task t WHERE t.input_resource_id = r.id"
            + "   AND t.state IN (?,?))"
            + " AND NOT EXISTS (SELECT 1 FROM task_output o WHERE o.resource_id = r.id"
            + "   AND o.task_id NOT IN (SELECT id FROM temp.gc_task))"
            + " AND NOT EXISTS (SELECT 1 FROM input_set_member m WHERE m.resource_id = r.id)",
        TaskState.PENDING,
        TaskState.ASSIGNED);
    // Tasks nothing would plan again, and that produced no resource that stays.
    sql.update(
        "INSERT INTO temp.gc_task_row SELECT t.id FROM task t JOIN step s ON s.id = t.step_id"
            + " WHERE t.id IN (SELECT id FROM temp.gc_task)"
            + " AND (s.current = 0 OR t.input_resource_id IN (SELECT id FROM temp.gc_resource))"
            + " AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.producer_task = t.id"
            + "   AND r.id NOT IN (SELECT id FROM temp.gc_resource))");
    // Objects whose last users may go.
    sql.update(
        "INSERT OR IGNORE INTO temp.gc_object SELECT log_hash FROM attempt"
            + " WHERE task_id IN (SELECT id FROM temp.gc_task) AND log_hash IS NOT NULL");
    sql.update(
        "INSERT OR IGNORE INTO temp.gc_object SELECT object_hash FROM resource"
            + " WHERE id IN (SELECT id FROM temp.gc_resource)");

    int attempts = sql.update("DELETE FROM attempt WHERE task_id IN (SELECT id FROM temp.gc_task)");
    sql.update("DELETE FROM task_output WHERE task_id IN (SELECT id FROM temp.gc_task)");
    int tasks = sql.update("DELETE FROM task WHERE id IN (SELECT id FROM temp.gc_task_row)");
    sql.update(
        "DELETE FROM resource_producer WHERE resource_id IN (SELECT id FROM temp.gc_resource)");
    int resources =
        sql.update("DELETE FROM resource WHERE id IN (SELECT id FROM temp.gc_resource)");
    sql.update("DELETE FROM run WHERE id IN (SELECT id FROM temp.gc_run)");

    // Of those objects, the ones nothing names any more; then their chunks no object uses.
    sql.update(
        "DELETE FROM temp.gc_object WHERE"
            + " EXISTS (SELECT 1 FROM resource r WHERE r.object_hash = gc_object.hash)"
            + " OR EXISTS (SELECT 1 FROM attempt a WHERE a.log_hash = gc_object.hash)");
    var candidates = new LinkedHashSet<Digest>();
    for (byte[] chunks :
        sql.queryList(
            "SELECT chunks FROM object WHERE hash IN (SELECT hash FROM temp.gc_object)"
                + " ORDER BY hash",
            rs -> rs.getBytes(1))) {
      candidates.addAll(ChunkList.decode(chunks));
    }
    int objects = sql.update("DELETE FROM object WHERE hash IN (SELECT hash FROM temp.gc_object)");
    candidates.addAll(looseSinceLastGc());
    List<Digest> collected = unused(sql, candidates);

    remember(collected, index);
    return new Reply.Collected(runs, attempts, tasks, resources, objects, collected.size());
  }

  /** Every member deletes {@code collected}; a report on its way that names one runs again. */
  private void remember(List<Digest> collected, long index) throws SQLException {
    // Only the chunks of this Gc are remembered: reports on their way are seconds old.
    sql.update("DELETE FROM collected_chunk");
    for (Digest d : collected) {
      sql.update("INSERT INTO collected_chunk(digest, gc_index) VALUES (?,?)", d.toBytes(), index);
    }
    if (!collected.isEmpty()) {
      events.add(new StateEvent.ChunksCollected(index, collected));
    }
  }

  /** The candidates no remaining object uses, in digest order. */
  static List<Digest> unused(Statements sql, Set<Digest> candidates) throws SQLException {
    if (candidates.isEmpty()) {
      return List.of();
    }
    // A one-chunk object's chunk is named like the object; only larger objects list others.
    var used = new HashSet<Digest>();
    for (byte[] chunks :
        sql.queryList(
            "SELECT chunks FROM object WHERE size > ?",
            rs -> rs.getBytes(1),
            (long) ChunkingHasher.CHUNK_SIZE)) {
      used.addAll(ChunkList.decode(chunks));
    }
    var out = new ArrayList<Digest>();
    for (Digest d : candidates) {
      if (!used.contains(d)
          && sql.queryLong("SELECT 1 FROM object WHERE hash = ?", d.toString()) == null) {
        out.add(d);
      }
    }
    out.sort(null);
    return out;
  }

  /**
   * The entry carries chunks: any a Gc collected are back, and (under {@link
   * RulesVersion#LOOSE_CHUNKS}) each is loose until an object names it. {@code rules}: the record's
   * rules version, read once per entry by the caller.
   */
  void chunksArrived(CarriesChunks c, int rules) throws SQLException {
    if (c.chunks().isEmpty()) {
      return;
    }
    if (anyCollected(rules)) {
      for (var chunk : c.chunks()) {
        sql.update("DELETE FROM collected_chunk WHERE digest = ?", chunk.digest().toBytes());
      }
    }
    if (rules >= RulesVersion.LOOSE_CHUNKS) {
      // Sent again: an attempt may be on its way to name it, so the next Gc starts over.
      for (var chunk : c.chunks()) {
        sql.update(
            "INSERT INTO loose_chunk(digest, seen_by_gc) VALUES (?, 0)"
                + " ON CONFLICT(digest) DO UPDATE SET seen_by_gc = 0",
            chunk.digest().toBytes());
      }
    }
  }

  /** An object was recorded: its chunks are no longer loose. */
  void named(ObjectLayout layout, int rules) throws SQLException {
    if (layout.chunks().isEmpty() || rules < RulesVersion.LOOSE_CHUNKS) {
      return;
    }
    for (Digest d : layout.chunks()) {
      sql.update("DELETE FROM loose_chunk WHERE digest = ?", d.toBytes());
    }
  }

  /**
   * The loose chunks this Gc collects: those the Gc before found loose and nothing has sent or named
   * since (a report is seconds behind its chunks, Gcs are hours apart); the others are marked for
   * the next one.
   */
  private List<Digest> looseSinceLastGc() throws SQLException {
    if (meta.rulesVersion() < RulesVersion.LOOSE_CHUNKS) {
      return List.of();
    }
    List<Digest> loose =
        sql.queryList(
            "SELECT digest FROM loose_chunk WHERE seen_by_gc = 1 ORDER BY digest",
            rs -> Digest.fromBytes(rs.getBytes(1)));
    sql.update("DELETE FROM loose_chunk WHERE seen_by_gc = 1");
    sql.update("UPDATE loose_chunk SET seen_by_gc = 1");
    return loose;
  }

  /** True when a chunk of one of these objects was collected and has not come back. */
  boolean anyGone(List<ObjectLayout> layouts, int rules) throws SQLException {
    if (!anyCollected(rules)) {
      return false;
    }
    for (ObjectLayout layout : layouts) {
      for (Digest d : layout.chunks()) {
        if (sql.queryLong("SELECT 1 FROM collected_chunk WHERE digest = ?", d.toBytes()) != null) {
          return true;
        }
      }
    }
    return false;
  }

  private boolean anyCollected(int rules) throws SQLException {
    return rules >= RulesVersion.RETENTION
        && sql.queryLong("SELECT 1 FROM collected_chunk LIMIT 1") != null;
  }
}
