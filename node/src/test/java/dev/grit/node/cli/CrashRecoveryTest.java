package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.SqlState;
import dev.grit.consensus.state.TaskState;
import dev.grit.engine.object.Digest;
import dev.grit.node.testing.Grit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of {@code grit run} in the middle, then the same command again: the run
 * finishes, tasks that had succeeded do not run again, and no output is lost.
 */
@Tag("slow")
class CrashRecoveryTest {
  private static final int ITEMS = 40;

  @TempDir Path dir;

  @Test
  void killedRunFinishesOnRerunWithoutRedoingWork() throws Exception {
    Path ledger = dir.resolve("ledger");
    Files.createFile(ledger);
    Path manifest = dir.resolve("crash.toml");
    Files.writeString(
        manifest,
        """
        [[step]]
        name = "make"
        script = "for i in $(seq 1 %d); do echo item $i > $OUTPUT_DIR/item_$i; done"

        [[step]]
        name = "work"
        inputs = ["item_*"]
        script = '''
        sleep 0.2
        tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/out
        echo "$GRIT_TASK_ID" >> %s
        '''
        """
            .formatted(ITEMS, ledger));
    var grit = new Grit(dir, Map.of());
    // An earlier run of another pipeline ended cleanly: its node marked the record at rest.
    Path other = dir.resolve("other.toml");
    Files.writeString(other, "[[step]]\nname = \"one\"\nscript = \"echo 1 > $OUTPUT_DIR/one\"\n");
    assertEquals(0, grit.run("run", other.toString(), "--db", "db").exit());
    assertTrue(Files.exists(dir.resolve("db/at-rest")));

    Process first = grit.start("run", manifest.toString(), "--db", "db", "--parallel", "2");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (Files.readAllLines(ledger).size() < 10) {
      assertTrue(first.isAlive(), "the first run ended before it could be killed");
      assertTrue(System.nanoTime() < deadline, "no progress within 60 s");
      Thread.sleep(20);
    }
    first.destroyForcibly(); // SIGKILL
    assertTrue(first.waitFor(30, TimeUnit.SECONDS));
    int ranBeforeKill = Files.readAllLines(ledger).size();
    // The killed node had unmarked it when it started: its log may hold entries it never applied.
    assertFalse(Files.exists(dir.resolve("db/at-rest")));

    Set<Long> committed = new HashSet<>();
    try (var queries = SqlState.openReadOnly(dir.resolve("db/state.db"))) {
      for (long id = 1; id <= ITEMS + 1; id++) {
        queries
            .task(id)
            .filter(t -> t.step().name().equals("work") && t.state() == TaskState.SUCCEEDED)
            .ifPresent(t -> committed.add(t.taskId()));
      }
    }
    assertTrue(committed.size() >= 5, "expected succeeded tasks before the kill, got " + committed);
    assertTrue(committed.size() < ITEMS, "the run had already finished");

    var second = grit.run("run", manifest.toString(), "--db", "db", "--parallel", "2");
    assertEquals(0, second.exit(), second::toString);

    List<String> all = Files.readAllLines(ledger);
    Map<Long, Integer> runs = new HashMap<>();
    all.forEach(l -> runs.merge(Long.parseLong(l.trim()), 1, Integer::sum));
    for (long id : committed) {
      // A task whose success was committed never runs again.
      assertEquals(1, runs.getOrDefault(id, 0), "task " + id + " ran again after its success was recorded");
    }
    assertEquals(ITEMS, runs.size(), "every work task ran");
    // Only the attempts in flight at the kill may have run twice.
    int twice = (int) runs.values().stream().filter(n -> n > 1).count();
    assertTrue(twice <= ranBeforeKill - committed.size() + 4, "too many tasks ran twice: " + runs);

    var outputs = grit.run("export", "out", "--db", "db");
    assertEquals(0, outputs.exit(), outputs::toString);
    // Objects are named by their bytes' digest: the listed hashes say every output's content.
    var hashes = new ArrayList<String>();
    for (String line : outputs.out().split("\n")) {
      hashes.add(line.split("\t")[0]);
    }
    hashes.sort(null);
    var expected = new ArrayList<String>();
    for (int i = 1; i <= ITEMS; i++) {
      expected.add(Digest.of(("ITEM " + i + "\n").getBytes(StandardCharsets.UTF_8)).toString());
    }
    expected.sort(null);
    assertEquals(expected, hashes);
    var one = grit.run("export-hash", hashes.get(0), "--db", "db");
    assertEquals(0, one.exit(), one::toString);
    assertEquals(hashes.get(0), Digest.of(one.out().getBytes(StandardCharsets.UTF_8)).toString());
  }
}
