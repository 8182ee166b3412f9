package dev.grit.consensus.compat;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A record written by the first release opens, migrates and grows as a new one would. */
class RecordCompatibilityTest {
  @TempDir Path dir;

  @Test
  void aFirstReleaseRecordOpensAsTheSameRecordTodaysCodeBuilds() throws Exception {
    Path old = copyFixture();
    try (SqlState migrated = SqlState.open(old);
        SqlState fresh = SqlState.open(dir.resolve("fresh.db"))) {
      applyAll(fresh, RecordHistory.entries(), 1);
      assertEquals(RecordHistory.entries().size(), migrated.appliedIndex());
      assertEquals(fresh.dump(), migrated.dump());
      assertEquals(RulesVersion.INITIAL, migrated.rulesVersion());

      // Both grow alike: the rest of the run, and a node of today's code registering.
      long next = migrated.appliedIndex() + 1;
      List<Command> more =
          List.of(
              assign(11_000, 3, 2, "n1"),
              results(success(3, 2, "n1", 11_100, output("count", "2 words\n"))),
              new RegisterNode("n3", "127.0.0.1:7003", 2, 11_200));
      applyAll(migrated, more, next);
      applyAll(fresh, more, next);
      assertEquals(fresh.dump(), migrated.dump());

      // Retention, once the rules allow it, removes the same history from both.
      next += more.size();
      List<Command> retention =
          List.of(
              new dev.grit.engine.command.RaiseRulesVersion(RulesVersion.RETENTION, 12_000),
              new dev.grit.engine.command.Gc(Long.MAX_VALUE - 1, 12_100));
      applyAll(migrated, retention, next);
      applyAll(fresh, retention, next);
      assertEquals(fresh.dump(), migrated.dump());
    }
  }

  @Test
  void aMigratedRecordHasTheIndexesOfANewOne() throws Exception {
    Path old = copyFixture();
    SqlState.open(old).close();
    SqlState.open(dir.resolve("fresh.db")).close();
    assertEquals(indexes(dir.resolve("fresh.db")), indexes(old));
    assertTrue(indexes(old).contains("task_by_input"), indexes(old));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void aRecordOfAnEarlierSchemaGoesThroughEveryLaterStep(int version) throws Exception {
    // A record as schema `version` left it: none of the tables and indexes schema 4 adds.
    Path old = dir.resolve("v" + version + ".db");
    try (SqlState state = SqlState.open(old)) {
      applyAll(state, RecordHistory.entries(), 1);
    }
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + old);
        var s = c.createStatement()) {
      for (String index : SCHEMA_4_INDEXES) {
        s.execute("DROP INDEX " + index);
      }
      s.execute("DROP TABLE collected_chunk");
      s.execute("UPDATE meta SET schema_version = " + version);
    }
    Path fresh = dir.resolve("fresh.db");
    try (SqlState migrated = SqlState.open(old);
        SqlState built = SqlState.open(fresh)) {
      applyAll(built, RecordHistory.entries(), 1);
      assertEquals(built.dump(), migrated.dump());
    }
    assertEquals(indexes(fresh), indexes(old));
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + old);
        var s = c.createStatement();
        var rs = s.executeQuery("SELECT schema_version FROM meta")) {
      rs.next();
      assertEquals(4, rs.getInt(1));
    }
  }

  private static final List<String> SCHEMA_4_INDEXES =
      List.of(
          "run_by_pipeline",
          "run_by_finish",
          "resource_by_pipeline",
          "resource_by_producer",
          "resource_by_object",
          "producer_by_step",
          "task_by_input",
          "attempt_by_log");

  private static String indexes(Path file) throws Exception {
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + file);
        var s = c.createStatement();
        var rs =
            s.executeQuery(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                    + " ORDER BY name")) {
      var out = new StringBuilder();
      while (rs.next()) {
        out.append(rs.getString(1)).append(": ").append(rs.getString(2)).append('\n');
      }
      return out.toString();
    }
  }

  @Test
  void theFixtureIsWhatTheFirstReleaseWrote() throws Exception {
    // Guards the fixture itself: its dump, taken when it was made, still matches it.
    try (InputStream in = getClass().getResourceAsStream("/compat/record-v1.dump");
        var c = DriverManager.getConnection("jdbc:sqlite:" + copyFixture())) {
      String expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertEquals(expected, SqlState.dump(c));
    }
  }

  @Test
  void aRecordOfANewerSchemaIsRefusedAndLeftAsItWas() throws Exception {
    Path file = copyFixture();
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + file);
        var s = c.createStatement()) {
      s.execute("UPDATE meta SET schema_version = 99");
    }
    String before = dumpOf(file);
    var e = assertThrows(IOException.class, () -> SqlState.open(file));
    assertTrue(e.getMessage().contains("schema version 99, newer than this release"), e.getMessage());
    assertEquals(before, dumpOf(file), "the record was changed");
  }

  private static String dumpOf(Path file) throws Exception {
    try (var c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      return SqlState.dump(c);
    }
  }

  private Path copyFixture() throws IOException {
    Path file = Files.createTempFile(dir, "record-v1", ".db");
    try (InputStream in = getClass().getResourceAsStream("/compat/record-v1.db")) {
      Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    return file;
  }

  private static void applyAll(SqlState state, List<Command> entries, long firstIndex)
      throws Exception {
    long index = firstIndex;
    for (Command c : entries) {
      state.apply(1, index++, c);
    }
  }
}
