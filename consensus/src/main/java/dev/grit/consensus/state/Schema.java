package dev.grit.consensus.state;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The tables of the replicated record. Times are epoch milliseconds; digests are hex. A record
 * written by an older release is migrated when it opens; one written by a newer release is
 * refused, since this code would misread it.
 */
final class Schema {
  /**
   * 2: the rules version of the record and of each node. 3: gather steps: a step's {@code gather}
   * mark, its place in the manifest and its latest gather task; a task's input set; input sets and
   * their members; why a run ended as it did. 4: indexes for a long history (a run's tasks by state,
   * resources and their producers by step, runs by pipeline, attempts and tasks by run for
   * retention) and the chunks retention collected ({@code collected_chunk}). 5: chunks stored that
   * no object names yet ({@code loose_chunk}).
   */
  static final int VERSION = 5;

  /**
   * The task table, named {@code %s}: version 3 rebuilds it to widen its identity to (step version,
   * input resource, input set), a change SQLite makes only by copying the rows into a new table.
   */
  private static final String TASK_TABLE =
      """
      CREATE TABLE IF NOT EXISTS %s(
        id INTEGER PRIMARY KEY,
        step_id INTEGER NOT NULL,
        input_resource_id INTEGER NOT NULL,
        run_id INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        node TEXT,
        not_before INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        losses INTEGER NOT NULL,
        error TEXT,
        created_index INTEGER NOT NULL,
        input_set_id INTEGER NOT NULL DEFAULT 0,
        UNIQUE (step_id, input_resource_id, input_set_id))""";

  private static final String[] DDL = {
    """
    CREATE TABLE IF NOT EXISTS meta(
      id INTEGER PRIMARY KEY CHECK (id = 0),
      schema_version INTEGER NOT NULL,
      applied_term INTEGER NOT NULL,
      applied_index INTEGER NOT NULL,
      rules_version INTEGER NOT NULL DEFAULT 1)""",
    "INSERT OR IGNORE INTO meta(id, schema_version, applied_term, applied_index) VALUES (0, "
        + VERSION
        + ", 0, 0)",
    """
    CREATE TABLE IF NOT EXISTS pipeline(
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE)""",
    """
    CREATE TABLE IF NOT EXISTS step(
      id INTEGER PRIMARY KEY,
      pipeline_id INTEGER NOT NULL,
      name TEXT NOT NULL,
      version INTEGER NOT NULL,
      version_hash TEXT NOT NULL,
      script TEXT NOT NULL,
      inputs TEXT NOT NULL,
      env TEXT NOT NULL,
      parallel INTEGER NOT NULL,
      retries INTEGER NOT NULL,
      retry_backoff_ms INTEGER NOT NULL,
      timeout_ms INTEGER NOT NULL,
      priority INTEGER NOT NULL,
      current INTEGER NOT NULL,
      created_index INTEGER NOT NULL,
      gather INTEGER NOT NULL DEFAULT 0,
      position INTEGER NOT NULL DEFAULT 0,
      gathered_task INTEGER NOT NULL DEFAULT 0,
      UNIQUE (pipeline_id, name, version_hash),
      UNIQUE (pipeline_id, name, version))""",
    """
    CREATE TABLE IF NOT EXISTS run(
      id INTEGER PRIMARY KEY,
      pipeline_id INTEGER NOT NULL,
      request_id TEXT NOT NULL UNIQUE,
      source TEXT NOT NULL,
      manifest TEXT NOT NULL,
      submitted_at INTEGER NOT NULL,
      state TEXT NOT NULL,
      finished_at INTEGER,
      start_step TEXT,
      only_steps TEXT NOT NULL,
      max_parallel INTEGER NOT NULL,
      superseded_by INTEGER,
      reason TEXT)""",
    TASK_TABLE.formatted("task"),
    "CREATE INDEX IF NOT EXISTS task_by_state ON task(state, step_id, not_before, id)",
    "CREATE INDEX IF NOT EXISTS task_by_run ON task(run_id, state)",
    "CREATE INDEX IF NOT EXISTS task_by_node ON task(node, state)",
    // What consumed a resource: lineage downward, and the current resources of a pipeline.
    "CREATE INDEX IF NOT EXISTS task_by_input ON task(input_resource_id)",
    """
    CREATE TABLE IF NOT EXISTS input_set(
      id INTEGER PRIMARY KEY,
      pipeline_id INTEGER NOT NULL,
      hash TEXT NOT NULL,
      size INTEGER NOT NULL,
      UNIQUE (pipeline_id, hash))""",
    """
    CREATE TABLE IF NOT EXISTS input_set_member(
      set_id INTEGER NOT NULL,
      resource_id INTEGER NOT NULL,
      PRIMARY KEY (set_id, resource_id))""",
    "CREATE INDEX IF NOT EXISTS input_set_by_resource ON input_set_member(resource_id)",
    """
    CREATE TABLE IF NOT EXISTS attempt(
      task_id INTEGER NOT NULL,
      n INTEGER NOT NULL,
      node TEXT NOT NULL,
      assigned_at INTEGER NOT NULL,
      started_at INTEGER,
      finished_at INTEGER,
      exit_code INTEGER,
      outcome TEXT NOT NULL,
      error TEXT,
      log_hash TEXT,
      PRIMARY KEY (task_id, n))""",
    """
    CREATE TABLE IF NOT EXISTS resource(
      id INTEGER PRIMARY KEY,
      pipeline_id INTEGER NOT NULL,
      name TEXT NOT NULL,
      object_hash TEXT NOT NULL,
      size INTEGER NOT NULL,
      producer_task INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (pipeline_id, name, object_hash))""",
    "CREATE INDEX IF NOT EXISTS resource_by_name ON resource(name, created_at)",
    """
    CREATE TABLE IF NOT EXISTS resource_producer(
      resource_id INTEGER NOT NULL,
      step_id INTEGER NOT NULL,
      PRIMARY KEY (resource_id, step_id))""",
    """
    CREATE TABLE IF NOT EXISTS task_output(
      task_id INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      name TEXT NOT NULL,
      resource_id INTEGER NOT NULL,
      PRIMARY KEY (task_id, name))""",
    """
    CREATE TABLE IF NOT EXISTS object(
      hash TEXT PRIMARY KEY,
      size INTEGER NOT NULL,
      chunks BLOB NOT NULL)""",
    """
    CREATE TABLE IF NOT EXISTS node(
      id TEXT PRIMARY KEY,
      http_address TEXT NOT NULL,
      slots INTEGER NOT NULL,
      registered_at INTEGER NOT NULL,
      rules_version INTEGER NOT NULL DEFAULT 1)""",
    """
    CREATE TABLE IF NOT EXISTS counter(
      name TEXT PRIMARY KEY,
      value INTEGER NOT NULL)""",
    """
    CREATE TABLE IF NOT EXISTS collected_chunk(
      digest BLOB PRIMARY KEY,
      gc_index INTEGER NOT NULL)""",
    """
    CREATE TABLE IF NOT EXISTS loose_chunk(
      digest BLOB PRIMARY KEY,
      seen_by_gc INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS run_by_pipeline ON run(pipeline_id, state)",
    "CREATE INDEX IF NOT EXISTS run_by_finish ON run(state, finished_at)",
    "CREATE INDEX IF NOT EXISTS resource_by_pipeline ON resource(pipeline_id, id)",
    "CREATE INDEX IF NOT EXISTS resource_by_producer ON resource(producer_task)",
    "CREATE INDEX IF NOT EXISTS resource_by_object ON resource(object_hash)",
    "CREATE INDEX IF NOT EXISTS producer_by_step ON resource_producer(step_id, resource_id)",
    "CREATE INDEX IF NOT EXISTS attempt_by_log ON attempt(log_hash)",
  };

  /**
   * The statements that bring a record of version {@code i + 1} to {@code i + 2}, one version at a
   * time, so a record of any older version goes through every step after it; columns are added
   * last, as a new record has them, so a migrated record equals one built from scratch. Tables and
   * indexes that are new in a version need no statement: the DDL above creates what is absent.
   */
  private static final String[][] MIGRATIONS = {
    { // 1 to 2: rules versions
      "ALTER TABLE meta ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 1",
      "ALTER TABLE node ADD COLUMN rules_version INTEGER NOT NULL DEFAULT 1",
    },
    { // 2 to 3: gather steps
      "ALTER TABLE step ADD COLUMN gather INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE step ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE step ADD COLUMN gathered_task INTEGER NOT NULL DEFAULT 0",
      "ALTER TABLE run ADD COLUMN reason TEXT",
      TASK_TABLE.formatted("task_v3"),
      "INSERT INTO task_v3(id, step_id, input_resource_id, run_id, state, attempt, node,"
          + " not_before, failures, losses, error, created_index)"
          + " SELECT id, step_id, input_resource_id, run_id, state, attempt, node, not_before,"
          + " failures, losses, error, created_index FROM task",
      "DROP TABLE task",
      "ALTER TABLE task_v3 RENAME TO task",
    },
    { // 3 to 4: indexes for a long history and collected chunks, both created by the DDL
    },
    { // 4 to 5: loose chunks, created by the DDL
    },
  };

  /** Thrown for a record whose schema is newer than this code. */
  static final class NewerSchemaException extends SQLException {
    NewerSchemaException(int version) {
      super(
          "the record has schema version "
              + version
              + ", newer than this release reads ("
              + VERSION
              + "): run a newer grit");
    }
  }

  private Schema() {}

  /** Creates the tables of an empty record, or migrates an older one, in the caller's transaction. */
  static void create(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      int version = existingVersion(s);
      if (version > VERSION) {
        throw new NewerSchemaException(version);
      }
      for (int v = version; v > 0 && v < VERSION; v++) {
        for (String sql : MIGRATIONS[v - 1]) {
          s.execute(sql);
        }
      }
      for (String ddl : DDL) {
        s.execute(ddl);
      }
      s.execute("UPDATE meta SET schema_version = " + VERSION);
    }
  }

  /** The schema version of the record, or 0 for a new one. */
  private static int existingVersion(Statement s) throws SQLException {
    try (ResultSet rs =
        s.executeQuery("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")) {
      if (!rs.next()) {
        return 0;
      }
    }
    try (ResultSet rs = s.executeQuery("SELECT schema_version FROM meta")) {
      return rs.next() ? rs.getInt(1) : 0;
    }
  }
}
