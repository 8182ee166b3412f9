package dev.grit.consensus.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.sqlite.SQLiteConfig;

/**
 * Every table of a record's SQLite file as text, rows in a stable order, read through its own
 * read-only connection (so it works beside a live replica, which keeps writing through its own).
 * Two replicas that applied the same entries give the same text.
 */
public final class StateDump {
  private StateDump() {}

  public static String of(Path stateFile) {
    if (!Files.isRegularFile(stateFile)) {
      throw new IllegalStateException("no state file at " + stateFile);
    }
    var config = new SQLiteConfig();
    config.setReadOnly(true);
    config.setBusyTimeout(10_000);
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:sqlite:" + stateFile.toAbsolutePath(), config.toProperties())) {
      c.setAutoCommit(false); // one read transaction: a consistent view of every table
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
                  .append(v instanceof byte[] b ? HexFormat.of().formatHex(b) : v);
            }
            sb.append('\n');
          }
        }
      }
      c.rollback();
      return sb.toString();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot dump " + stateFile + ": " + e.getMessage(), e);
    }
  }

  /** Deletes a record's SQLite file with its WAL and shared-memory files. */
  public static void deleteStateFiles(Path stateFile) throws IOException {
    Files.deleteIfExists(stateFile);
    Files.deleteIfExists(Path.of(stateFile + "-wal"));
    Files.deleteIfExists(Path.of(stateFile + "-shm"));
  }
}
