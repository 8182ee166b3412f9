package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot file and a record installed from one are forced to the disk, bytes before the
 * rename and the directory after it, before the call returns.
 */
class SnapshotDurabilityTest {
  @TempDir Path dir;

  /** Each forced path, with the size it had then (-1 for a directory). */
  private final List<String> forced = new ArrayList<>();

  private final DurableFiles recording =
      new DurableFiles(
          path -> {
            forced.add(path.getFileName() + (Files.isDirectory(path) ? "/" : "=" + Files.size(path)));
            DurableFiles.FSYNC.force(path);
          });

  private SqlState openWithOneRun(Path file) throws IOException, java.sql.SQLException {
    SqlState state = SqlState.open(file, recording);
    state.apply(1, 1, submit("r1", "pipe", 1000, step("gen", "true")));
    return state;
  }

  @Test
  void aSnapshotIsForcedBeforeItsRenameAndItsDirectoryAfter() throws Exception {
    Path snapshots = Files.createDirectories(dir.resolve("sm"));
    Path target = snapshots.resolve("snapshot.1_1");
    try (SqlState state = openWithOneRun(dir.resolve("state.db"))) {
      forced.clear();
      state.backupTo(target);
    }
    assertTrue(Files.isRegularFile(target));
    assertFalse(Files.exists(snapshots.resolve("snapshot.1_1.tmp")));
    assertEquals(
        List.of("snapshot.1_1.tmp=" + Files.size(target), "sm/"),
        forced,
        "the whole copy forced under its temporary name, then the directory holding the rename");
  }

  @Test
  void aRecordInstalledFromASnapshotIsForcedWithItsDirectory() throws Exception {
    Path snapshot = dir.resolve("snapshot");
    try (SqlState leader = openWithOneRun(dir.resolve("leader.db"))) {
      leader.backupTo(snapshot);
    }
    Path records = Files.createDirectories(dir.resolve("follower"));
    try (SqlState follower = SqlState.open(records.resolve("state.db"), recording)) {
      forced.clear();
      follower.replaceWith(snapshot);
      assertEquals(1, follower.appliedIndex());
      assertTrue(follower.queries().run(1).isPresent(), "the installed record holds the run");
    }
    assertEquals(List.of("state.db.restore=" + Files.size(snapshot), "follower/"), forced);
  }
}
