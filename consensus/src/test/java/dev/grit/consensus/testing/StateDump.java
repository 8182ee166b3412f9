package dev.grit.consensus.testing;

import dev.grit.consensus.state.SqlState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
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
      String dump = SqlState.dump(c);
      c.rollback();
      return dump;
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
