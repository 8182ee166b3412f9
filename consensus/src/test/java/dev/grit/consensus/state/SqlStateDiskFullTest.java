package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.SmallDisk;
import dev.grit.engine.command.Command;
import dev.grit.engine.manifest.Step;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An entry applied while the record's disk is full fails having changed nothing, and applied
 * again once there is room it gives the record a replica that never ran out of space has.
 */
class SqlStateDiskFullTest {
  private static final String P = "pipe";
  private static final Step GEN = step("gen", "produce chunks");
  private static final Step MAP = step("map", "transform", "chunk_*");

  @TempDir Path dir;
  private SmallDisk small;
  private Path disk;
  private final List<SqlState> open = new ArrayList<>();

  @Test
  void anEntryThatFindsTheDiskFullIsAppliedWholeOnceThereIsRoom() throws Exception {
    small = SmallDisk.mount(dir.resolve("disk"), "4m");
    disk = small.path();
    SqlState cramped = open(disk.resolve("state.db"));
    SqlState roomy = open(dir.resolve("roomy").resolve("state.db"));
    List<Command> log = new ArrayList<>();
    log.add(submit("r1", P, 1000, GEN, MAP));
    log.add(assign(1100, 1, 1, "n1"));
    log.add(results(success(1, 1, "n1", 1200, output("chunk_1", "a"), output("chunk_2", "b"))));
    log.add(assign(1300, 2, 1, "n1"));
    log.add(results(success(2, 1, "n1", 1400, output("out", "A"))));
    for (int i = 0; i < log.size(); i++) {
      roomy.apply(1, i + 1, log.get(i));
    }
    cramped.apply(1, 1, log.get(0));
    cramped.apply(1, 2, log.get(1));

    Path ballast = fill(disk);
    String before = cramped.dump();
    var full = assertThrows(SQLException.class, () -> cramped.apply(1, 3, log.get(2)));
    assertTrue(SqlState.isDiskFull(full), full.toString());
    assertEquals(2, cramped.appliedIndex());
    assertEquals(before, cramped.dump());
    // Still no room: failing again changes nothing either.
    assertThrows(SQLException.class, () -> cramped.apply(1, 3, log.get(2)));
    assertEquals(before, cramped.dump());

    // SQLite ended the transaction the full disk broke: these commit only in one begun anew.
    Files.delete(ballast);
    for (int i = 2; i < log.size(); i++) {
      cramped.apply(1, i + 1, log.get(i));
    }
    assertEquals(5, cramped.appliedIndex());
    assertEquals(roomy.dump(), cramped.dump());
  }

  private SqlState open(Path file) throws IOException {
    SqlState state = SqlState.open(file);
    open.add(state);
    return state;
  }

  /** Writes a file until the disk has no room left; returns it. */
  private static Path fill(Path disk) throws IOException {
    Path ballast = disk.resolve("ballast");
    byte[] block = new byte[64 * 1024];
    try (OutputStream out = Files.newOutputStream(ballast)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
    return ballast;
  }

  @AfterEach
  void unmount() throws Exception {
    open.forEach(SqlState::close);
    if (small != null) {
      small.close();
    }
  }
}
