package dev.grit.consensus.state;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The apply thread's statements on the writer connection, each prepared once per SQL text: apply
 * runs thousands of them per second. Arguments are bound in order; an enum is bound as its name,
 * which is how the record stores states.
 */
final class Statements implements AutoCloseable {
  /** Reads one row of a result. */
  interface Row<T> {
    T read(ResultSet rs) throws SQLException;
  }

  private final Connection c;
  private final Map<String, PreparedStatement> prepared = new HashMap<>();

  Statements(Connection c) {
    this.c = c;
  }

  /** Runs an INSERT, UPDATE or DELETE; returns how many rows it changed. */
  int update(String sql, Object... args) throws SQLException {
    return bound(sql, args).executeUpdate();
  }

  /** Runs an INSERT; returns the new row's id. */
  long insert(String sql, Object... args) throws SQLException {
    update(sql, args);
    return queryLong("SELECT last_insert_rowid()");
  }

  /** The first column of the first row, or null when there is no row. */
  Long queryLong(String sql, Object... args) throws SQLException {
    return queryOne(sql, rs -> rs.getLong(1), args);
  }

  /** The first column of the first row, or null when there is no row. */
  String queryString(String sql, Object... args) throws SQLException {
    return queryOne(sql, rs -> rs.getString(1), args);
  }

  /** The first row, or null when there is none. */
  <T> T queryOne(String sql, Row<T> row, Object... args) throws SQLException {
    try (ResultSet rs = bound(sql, args).executeQuery()) {
      return rs.next() ? row.read(rs) : null;
    }
  }

  /** Every row, read before this returns: the statement may run again meanwhile. */
  <T> List<T> queryList(String sql, Row<T> row, Object... args) throws SQLException {
    var out = new ArrayList<T>();
    try (ResultSet rs = bound(sql, args).executeQuery()) {
      while (rs.next()) {
        out.add(row.read(rs));
      }
    }
    return out;
  }

  private PreparedStatement bound(String sql, Object... args) throws SQLException {
    PreparedStatement ps = prepared.get(sql);
    if (ps == null) {
      ps = c.prepareStatement(sql);
      prepared.put(sql, ps);
    }
    for (int i = 0; i < args.length; i++) {
      ps.setObject(i + 1, args[i] instanceof Enum<?> e ? e.name() : args[i]);
    }
    return ps;
  }

  @Override
  public void close() {
    for (PreparedStatement ps : prepared.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // closing the connection closes it too
      }
    }
    prepared.clear();
  }
}
