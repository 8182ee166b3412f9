package dev.grit.consensus.state;

import dev.grit.engine.command.Command;
import dev.grit.engine.command.RulesVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The replicated record in SQLite (WAL). One writer: the apply thread, which applies each log
 * entry in one transaction together with the entry's (term, index), so after a crash the record
 * and its applied index always agree and replayed entries are recognised and skipped.
 * Reads go through {@link #queries()} on a separate connection and never block apply.
 */
public final class SqlState implements AutoCloseable {
  static {
    dev.grit.consensus.natives.NativeLibraries.prepareSqlite();
  }

  private final Path file;
  private final DurableFiles durable;
  private final int supportedRules;
  private final StateQueries queries;
  private Connection writer;
  private Applier applier;
  private long appliedTerm;
  private long appliedIndex;

  private SqlState(
      Path file, DurableFiles durable, int supportedRules, Connection writer, Connection reader)
      throws SQLException {
    this.file = file;
    this.durable = durable;
    this.supportedRules = supportedRules;
    this.queries = new StateQueries(reader);
    useWriter(writer);
  }

  private void useWriter(Connection writer) throws SQLException {
    var applier = new Applier(writer, supportedRules);
    int rules = applier.rulesVersion();
    if (rules > supportedRules) {
      applier.close();
      throw new SQLException(new UnsupportedRulesException(rules, supportedRules).getMessage());
    }
    this.writer = writer;
    this.applier = applier;
    try (Statement s = writer.createStatement();
        ResultSet rs = s.executeQuery("SELECT applied_term, applied_index FROM meta")) {
      rs.next();
      appliedTerm = rs.getLong(1);
      appliedIndex = rs.getLong(2);
    }
  }

  /** The rules version the record follows (see {@link dev.grit.engine.command.RulesVersion}). */
  public synchronized int rulesVersion() throws SQLException {
    return applier.rulesVersion();
  }

  /**
   * Replaces the whole record with a snapshot's copy, in place: readers wait meanwhile and then
   * read the new record through the same {@link StateQueries}. The copy is durable before this
   * returns: the Raft log behind the snapshot may be gone already.
   */
  public synchronized void replaceWith(Path snapshot) throws IOException {
    synchronized (queries) {
      applier.close();
      queries.close();
      try {
        writer.close();
      } catch (SQLException ignored) {
        // replaced below either way
      }
      Files.deleteIfExists(Path.of(file + "-wal"));
      Files.deleteIfExists(Path.of(file + "-shm"));
      Path tmp = file.resolveSibling(file.getFileName() + ".restore");
      Files.copy(snapshot, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      // The directory sync also makes the removal of the old WAL durable.
      durable.moveInto(tmp, file);
      try {
        Connection w = openWriter(file);
        queries.use(connect(file));
        useWriter(w);
      } catch (SQLException e) {
        throw new IOException("cannot reopen the state database " + file + ": " + e.getMessage(), e);
      }
    }
  }

  /** Opens (creating if absent) the record in {@code file}. */
  public static SqlState open(Path file) throws IOException {
    return open(file, DurableFiles.SYSTEM);
  }

  /** Opens the record, making snapshot files durable through {@code durable}. */
  public static SqlState open(Path file, DurableFiles durable) throws IOException {
    return open(file, durable, RulesVersion.SUPPORTED);
  }

  /**
   * Opens the record for code that applies rules up to {@code supportedRules}; a record that
   * follows newer rules, or has a newer schema, is refused.
   */
  public static SqlState open(Path file, DurableFiles durable, int supportedRules)
      throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    try {
      Connection writer = openWriter(file);
      Connection reader = connect(file);
      try {
        return new SqlState(file, durable, supportedRules, writer, reader);
      } catch (SQLException e) {
        writer.close();
        reader.close();
        throw e;
      }
    } catch (SQLException e) {
      throw new IOException("cannot open the state database " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Opens the record of a stopped node (or one another process runs) for reading only: what the
   * export and log commands use. An absent file is an {@link IOException}.
   */
  public static StateQueries openReadOnly(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("no grit state at " + file);
    }
    try {
      var config = new org.sqlite.SQLiteConfig();
      config.setReadOnly(true);
      config.setBusyTimeout(10000);
      return new StateQueries(
          DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), config.toProperties()));
    } catch (SQLException e) {
      throw new IOException("cannot read the state database " + file + ": " + e.getMessage(), e);
    }
  }

  private static Connection openWriter(Path file) throws SQLException {
    Connection writer = connect(file);
    try (Statement s = writer.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      // A crash loses nothing committed: the Raft log holds every entry past the snapshot.
      s.execute("PRAGMA synchronous=NORMAL");
    }
    writer.setAutoCommit(false);
    try {
      Schema.create(writer);
      writer.commit();
    } catch (SQLException e) {
      writer.close();
      throw e;
    }
    return writer;
  }

  private static Connection connect(Path file) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout=10000");
      s.execute("PRAGMA foreign_keys=OFF");
    }
    return c;
  }

  public long appliedTerm() {
    return appliedTerm;
  }

  public long appliedIndex() {
    return appliedIndex;
  }

  /**
   * Applies log entry ({@code term}, {@code index}). An entry at or below the applied index was
   * applied before a restart and is skipped. A {@link SQLException} leaves the record unchanged
   * and means this replica can no longer apply (the caller must stop), unless it says the disk is
   * full ({@link #isDiskFull}).
   */
  public synchronized ApplyResult apply(long term, long index, Command command)
      throws SQLException {
    if (index <= appliedIndex) {
      return ApplyResult.skippedEntry();
    }
    try {
      ApplyResult result = applier.apply(index, command);
      markApplied(term, index);
      writer.commit();
      appliedTerm = term;
      appliedIndex = index;
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        writer.rollback();
      } catch (SQLException notActive) {
        // SQLite ends the transaction itself on some errors (a full disk does). sqlite-jdbc then
        // begins no new one, and the next entry would be applied statement by statement.
        e.addSuppressed(notActive);
        try (Statement s = writer.createStatement()) {
          s.execute("BEGIN");
        } catch (SQLException alreadyActive) {
          e.addSuppressed(alreadyActive);
        }
      }
      throw e;
    }
  }

  /**
   * True when {@code e} says the disk is full. An {@link #apply} that failed so changed nothing,
   * and may be tried again once there is room.
   */
  public static boolean isDiskFull(SQLException e) {
    return e instanceof org.sqlite.SQLiteException s
        && (s.getResultCode().code & 0xff) == org.sqlite.SQLiteErrorCode.SQLITE_FULL.code;
  }

  /** Records an entry that changes nothing here (a configuration change, a no-op). */
  public synchronized void applyEmpty(long term, long index) throws SQLException {
    if (index <= appliedIndex) {
      return;
    }
    markApplied(term, index);
    writer.commit();
    appliedTerm = term;
    appliedIndex = index;
  }

  private void markApplied(long term, long index) throws SQLException {
    try (var ps = writer.prepareStatement("UPDATE meta SET applied_term = ?, applied_index = ?")) {
      ps.setLong(1, term);
      ps.setLong(2, index);
      ps.executeUpdate();
    }
  }

  /**
   * A consistent copy of the record at the applied index, for a snapshot. It appears under {@code
   * target} whole and durable (bytes and name), or not at all.
   */
  public synchronized void backupTo(Path target) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      // Its own connection: VACUUM INTO cannot run beside the writer's open statements. Called
      // between entries, it copies exactly the record at the applied index.
      try (Connection c = connect(file);
          Statement s = c.createStatement()) {
        s.execute("VACUUM INTO '" + tmp.toAbsolutePath().toString().replace("'", "''") + "'");
      }
    } catch (SQLException e) {
      throw new IOException("snapshot of " + file + " failed: " + e.getMessage(), e);
    }
    durable.moveInto(tmp, target);
  }

  public StateQueries queries() {
    return queries;
  }

  /**
   * Every table's rows in a stable order, as text: two replicas that applied the same entries
   * give the same dump.
   */
  public synchronized String dump() throws SQLException {
    return dump(writer);
  }

  /** The dump of {@link #dump()}, read through any connection to a record. */
  public static String dump(Connection c) throws SQLException {
    var sb = new StringBuilder();
    List<String> tables = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    for (String table : tables) {
      sb.append("== ").append(table).append('\n');
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT * FROM \"" + table + "\" ORDER BY 1, 2")) {
        int cols = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          for (int i = 1; i <= cols; i++) {
            Object v = rs.getObject(i);
            sb.append(i > 1 ? "|" : "")
                .append(v instanceof byte[] b ? java.util.HexFormat.of().formatHex(b) : v);
          }
          sb.append('\n');
        }
      }
    }
    return sb.toString();
  }

  @Override
  public synchronized void close() {
    applier.close();
    queries.close();
    try {
      writer.close();
    } catch (SQLException ignored) {
      // nothing left to do with a connection that will not close
    }
  }
}
