package dev.grit.consensus.compat;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.gather;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.RaiseRulesVersion;
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

/**
 * Records written by earlier releases (schema versions 1 and 2) open, migrate and grow as a new
 * one would.
 */
class RecordCompatibilityTest {
  @TempDir Path dir;

  @Test
  void aFirstReleaseRecordOpensAsTheSameRecordTodaysCodeBuilds() throws Exception {
    Path old = copyFixture("record-v1");
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
              new RaiseRulesVersion(RulesVersion.RETENTION, 12_000),
              new dev.grit.engine.command.Gc(Long.MAX_VALUE - 1, 12_100));
      applyAll(migrated, retention, next);
      applyAll(fresh, retention, next);
      assertEquals(fresh.dump(), migrated.dump());
    }
  }

  @Test
  void aMigratedRecordHasTheIndexesOfANewOne() throws Exception {
    SqlState.open(dir.resolve("fresh.db")).close();
    for (String fixture : List.of("record-v1", "record-v2")) {
      Path old = copyFixture(fixture);
      SqlState.open(old).close();
      assertEquals(indexes(dir.resolve("fresh.db")), indexes(old), fixture);
      assertTrue(indexes(old).contains("attempt_by_log"), indexes(old));
    }
  }

  @Test
  void aRecordOfSchemaThreeGainsTheIndexesOfFour() throws Exception {
    // A record as schema 3 left it: none of the tables and indexes schema 4 adds.
    int version = 3;
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
      assertEquals(5, rs.getInt(1));
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
  void aSecondReleaseRecordOpensAsTheSameRecordTodaysCodeBuilds() throws Exception {
    Path old = copyFixture("record-v2");
    try (SqlState migrated = SqlState.open(old);
        SqlState fresh = SqlState.open(dir.resolve("fresh.db"))) {
      applyAll(fresh, RecordHistoryV2.entries(), 1);
      assertEquals(RecordHistoryV2.entries().size(), migrated.appliedIndex());
      assertEquals(fresh.dump(), migrated.dump());

      // Both grow alike: the failed task's retry by a resubmission, and its report.
      long next = migrated.appliedIndex() + 1;
      List<Command> more =
          List.of(
              submit(
                  "req-4",
                  "pipe",
                  13_000,
                  step("gen", "printf 'a\\nb\\n' > $OUTPUT_DIR/lines"),
                  step("map", "wc -l $INPUT_FILE > $OUTPUT_DIR/count", "lines"),
                  step("split", "split -l 1 $INPUT_FILE $OUTPUT_DIR/part_", "lines"),
                  step("count", "wc -c < $INPUT_FILE > $OUTPUT_DIR/size", "part_*")),
              assign(13_100, 6, 2, "n3"),
              results(success(6, 2, "n3", 13_200, output("size", "2\n"))),
              // The rules of gather steps, and one: the migrated task table takes input sets.
              new RaiseRulesVersion(RulesVersion.GATHER, 14_000),
              submit(
                  "req-5",
                  "pipe",
                  15_000,
                  step("gen", "printf 'a\\nb\\n' > $OUTPUT_DIR/lines"),
                  step("split", "split -l 1 $INPUT_FILE $OUTPUT_DIR/part_", "lines"),
                  gather("joined", "cat $INPUT_DIR/* > $OUTPUT_DIR/joined", "part_*")),
              assign(15_100, 7, 1, "n1"),
              results(success(7, 1, "n1", 15_200, output("joined", "a\nb\n"))));
      applyAll(migrated, more, next);
      applyAll(fresh, more, next);
      assertEquals(fresh.dump(), migrated.dump());
      var joined = migrated.queries().task(7).orElseThrow();
      assertTrue(joined.step().gather(), joined.toString());
      assertEquals(2, migrated.queries().inputs(7).size());
      assertEquals(
          dev.grit.consensus.state.RunState.SUCCEEDED, migrated.queries().run(5).orElseThrow().state());

      // Retention, once the rules allow it, removes the same history from both.
      next += more.size();
      List<Command> retention =
          List.of(
              new RaiseRulesVersion(RulesVersion.RETENTION, 16_000),
              new dev.grit.engine.command.Gc(Long.MAX_VALUE - 1, 16_100));
      applyAll(migrated, retention, next);
      applyAll(fresh, retention, next);
      assertEquals(fresh.dump(), migrated.dump());
    }
  }

  @Test
  void theFixturesAreWhatTheirReleasesWrote() throws Exception {
    // Guards the fixtures themselves: their dumps, taken when they were made, still match them.
    for (String fixture : List.of("record-v1", "record-v2")) {
      try (InputStream in = getClass().getResourceAsStream("/compat/" + fixture + ".dump");
          var c = DriverManager.getConnection("jdbc:sqlite:" + copyFixture(fixture))) {
        String expected = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(expected, SqlState.dump(c), fixture);
      }
    }
  }

  @Test
  void aRecordOfANewerSchemaIsRefusedAndLeftAsItWas() throws Exception {
    Path file = copyFixture("record-v2");
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

  private Path copyFixture(String fixture) throws IOException {
    Path file = Files.createTempFile(dir, fixture, ".db");
    try (InputStream in = getClass().getResourceAsStream("/compat/" + fixture + ".db")) {
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
