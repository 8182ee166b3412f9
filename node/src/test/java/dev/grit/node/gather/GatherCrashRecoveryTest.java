package dev.grit.node.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.SqlState;
import dev.grit.node.testing.Grit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of {@code grit run} while its gather task runs, then the same command again: the
 * gather task (the same task, over the same set) runs again and finishes, no producer runs twice,
 * and the killed attempt's input directory is gone.
 */
@Tag("slow")
class GatherCrashRecoveryTest {
  private static final int PARTS = 6;

  @TempDir Path dir;

  @Test
  void aGatherKilledMidwayResumesOverTheSameSetWithoutRedoingItsProducers() throws Exception {
    Path ledger = dir.resolve("ledger");
    Path started = dir.resolve("gather-started");
    Path gate = dir.resolve("gate");
    Files.createFile(ledger);
    Path manifest = dir.resolve("crash.toml");
    Files.writeString(
        manifest,
        """
        name = "crash"

        [[step]]
        name = "make"
        script = "for i in $(seq 1 %1$d); do echo $i > $OUTPUT_DIR/part_$i; done"

        [[step]]
        name = "square"
        inputs = ["part_*"]
        script = '''
        mkdir -p $OUTPUT_DIR/squares
        n=$(cat $INPUT_FILE)
        echo $((n * n)) > $OUTPUT_DIR/squares/$GRIT_INPUT_NAME
        echo "square $GRIT_TASK_ID" >> %2$s
        '''

        [[step]]
        name = "sum"
        inputs = ["squares/*"]
        gather = true
        script = '''
        echo "sum $GRIT_TASK_ID $GRIT_ATTEMPT $INPUT_DIR" >> %2$s
        touch %3$s
        while [ ! -e %4$s ]; do sleep 0.05; done
        cut -f3 "$INPUT_LIST" | xargs cat | awk '{ s += $1 } END { print s }' > $OUTPUT_DIR/sum
        '''
        """
            .formatted(PARTS, ledger, started, gate));
    var grit = new Grit(dir, Map.of());

    Process first = grit.start("run", manifest.toString(), "--db", "db");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.exists(started)) {
      assertTrue(first.isAlive(), "the first run ended before its gather task ran");
      assertTrue(System.nanoTime() < deadline, "the gather task did not start within 90 s");
      Thread.sleep(20);
    }
    first.destroyForcibly(); // SIGKILL, while the gather script waits at the gate
    assertTrue(first.waitFor(30, TimeUnit.SECONDS));
    List<String> before = Files.readAllLines(ledger);
    String killedInputDir =
        before.stream().filter(l -> l.startsWith("sum ")).findFirst().orElseThrow().split(" ")[3];

    Files.createFile(gate);
    var second = grit.run("run", manifest.toString(), "--db", "db");
    assertEquals(0, second.exit(), second::toString);

    List<String> after = Files.readAllLines(ledger);
    // Every square had succeeded before the gather began: none runs again.
    long squares = after.stream().filter(l -> l.startsWith("square ")).count();
    assertEquals(PARTS, squares, "each square ran once: " + after);
    List<String> sums = after.stream().filter(l -> l.startsWith("sum ")).toList();
    assertEquals(2, sums.size(), "the gather task ran twice, killed once: " + after);
    String[] killed = sums.get(0).split(" ");
    String[] resumed = sums.get(1).split(" ");
    assertEquals(killed[1], resumed[1], "the same gather task, over the same set");
    assertEquals(Integer.parseInt(killed[2]) + 1, Integer.parseInt(resumed[2]), "its next attempt");

    var exported = grit.run("export", "sum", "--db", "db");
    assertEquals(0, exported.exit(), exported::toString);
    String hash = exported.out().split("\t")[0];
    int expected = 0;
    for (int i = 1; i <= PARTS; i++) {
      expected += i * i;
    }
    assertEquals(expected + "\n", grit.run("export-hash", hash, "--db", "db").out());

    try (var queries = SqlState.openReadOnly(dir.resolve("db/state.db"))) {
      long task = Long.parseLong(killed[1]);
      var outcomes = queries.attempts(task).stream().map(a -> a.outcome()).toList();
      assertEquals(List.of(AttemptOutcome.LOST, AttemptOutcome.SUCCEEDED), outcomes);
      assertEquals(PARTS, queries.inputs(task).size());
    }
    assertTrue(!Files.exists(Path.of(killedInputDir)), "the killed attempt's inputs were cleared");
  }
}
