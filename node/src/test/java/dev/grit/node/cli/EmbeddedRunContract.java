package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.object.Digest;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.Grit.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GRIT's documented behaviour, end to end through the real command line in a child process.
 * Subclasses run it with FUSE output capture and with the plain output directory.
 */
abstract class EmbeddedRunContract {
  @TempDir Path dir;
  Grit grit;

  abstract String outputMode();

  @BeforeEach
  void setUp() {
    grit = new Grit(dir, Map.of("GRIT_OUTPUT", outputMode()));
  }

  Path manifest(String name, String toml) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, toml);
    return file;
  }

  Result ok(String... args) throws Exception {
    Result r = grit.run(args);
    assertEquals(0, r.exit(), () -> String.join(" ", args) + " failed:\n" + r);
    return r;
  }

  /**
   * The object bytes of every resource named {@code name}, newest first: listed by {@code grit
   * export}, then read from the record and store as {@code grit export-hash} reads them (every grit
   * process has ended by then), without a JVM start per object.
   */
  List<String> contents(String name) throws Exception {
    var out = ok("export", name, "--db", "db").out();
    var contents = new ArrayList<String>();
    try (var queries = SqlState.openReadOnly(dir.resolve("db").resolve("state.db"));
        var chunks = ChunkStore.openReadOnly(dir.resolve("db").resolve("objects"))) {
      for (String line : out.split("\n")) {
        Digest digest = Digest.valueOf(line.split("\t")[0]);
        var layout = queries.object(digest).orElseThrow(() -> new AssertionError("no object " + digest));
        try (var in = chunks.open(layout)) {
          contents.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      }
    }
    return contents;
  }

  static final String README =
      """
      [[step]]
      name = "start"
      script = '''
      echo "Input data" > $OUTPUT_DIR/dataset-v1
      echo "More data" > $OUTPUT_DIR/dataset-v2
      '''

      [[step]]
      name = "process"
      inputs = ["dataset-v1"]
      script = '''
      cat $INPUT_FILE | tr '[:lower:]' '[:upper:]' > $OUTPUT_DIR/processed
      '''

      [[step]]
      name = "transform"
      inputs = ["dataset-v2"]
      parallel = 2
      script = '''
      cat $INPUT_FILE | sort > $OUTPUT_DIR/sorted
      '''
      """;

  @Test
  void readmeExampleRunsAndExports() throws Exception {
    Path m = manifest("workflow.toml", README);
    Result run = ok("run", m.toString(), "--db", "db");
    assertTrue(run.out().contains("3 tasks succeeded"), run::toString);
    assertEquals(List.of("INPUT DATA\n"), contents("processed"));
    assertEquals(List.of("More data\n"), contents("sorted"));
    String line = ok("export", "processed", "--db", "db").out();
    String[] fields = line.strip().split("\t");
    assertEquals(3, fields.length, line);
    assertEquals(64, fields[0].length());
    assertEquals("processed", fields[1]);
  }

  @Test
  void gritSpellingWorks() throws Exception {
    Path m = manifest("workflow.toml", README);
    ok("-manifest", m.toString(), "-db", "db", "-run", "-quiet");
    String hash = ok("-manifest", m.toString(), "-db", "db", "-export", "sorted").out().split("\t")[0];
    assertEquals("More data\n", ok("-manifest", m.toString(), "--db", "db", "-export-hash", hash).out());
  }

  @Test
  void rerunIsIncrementalAndEditsMakeVersions() throws Exception {
    Path m = manifest("workflow.toml", README);
    ok("run", m.toString(), "--db", "db");
    // Nothing to do: answered from the record at rest, without a node, and no run is recorded.
    Result again = ok("run", m.toString(), "--db", "db");
    assertTrue(again.out().contains("pipeline workflow is up to date: 0 tasks succeeded"), again::toString);

    // A new version of process consumes dataset-v1 again; start and transform do not rerun.
    manifest("workflow.toml", README.replace("tr '[:lower:]' '[:upper:]'", "rev"));
    Result edited = ok("run", m.toString(), "--db", "db");
    assertTrue(edited.out().contains("run 2 succeeded: 1 tasks succeeded"), edited::toString);
    assertTrue(edited.out().contains("process"), edited::toString);
    assertEquals(List.of("atad tupnI\n", "INPUT DATA\n"), contents("processed"));

    // Reverting returns to the old version and its history: nothing reruns, but the record
    // changes (the old version is current again), so the node runs it.
    manifest("workflow.toml", README);
    Result reverted = ok("run", m.toString(), "--db", "db");
    assertTrue(reverted.out().contains("run 3 succeeded: 0 tasks succeeded"), reverted::toString);
    assertTrue(ok("run", m.toString(), "--db", "db").out().contains("is up to date"));
  }

  @Test
  void equalOutputBytesCutOffDownstream() throws Exception {
    String v1 =
        """
        [[step]]
        name = "make"
        script = "echo same > $OUTPUT_DIR/data"
        [[step]]
        name = "use"
        inputs = ["data"]
        script = "cat $INPUT_FILE > $OUTPUT_DIR/used"
        """;
    Path m = manifest("cut.toml", v1);
    ok("run", m.toString(), "--db", "db");
    // A different script that writes the same bytes: make reruns, use does not.
    manifest("cut.toml", v1.replace("echo same", "printf 'same\\n'"));
    Result r = ok("run", m.toString(), "--db", "db");
    assertTrue(r.out().contains("1 tasks succeeded"), r::toString);
    assertFalse(r.out().contains(" use #"), r::toString);
  }

  @Test
  void globInputsFanOutAndNestedNamesAndEmptyFiles() throws Exception {
    Path m =
        manifest(
            "fan.toml",
            """
            [[step]]
            name = "split"
            script = '''
            for i in 1 2 3 4 5; do echo $i > $OUTPUT_DIR/chunk_$i; done
            mkdir -p $OUTPUT_DIR/parts/deep
            echo nested > $OUTPUT_DIR/parts/deep/001
            : > $OUTPUT_DIR/empty
            '''

            [[step]]
            name = "square"
            inputs = ["chunk_*"]
            script = "n=$(cat $INPUT_FILE); echo $((n * n)) > $OUTPUT_DIR/squared"

            [[step]]
            name = "deep"
            inputs = ["parts/**"]
            script = "cp $INPUT_FILE $OUTPUT_DIR/copy"
            """);
    Result r = ok("run", m.toString(), "--db", "db");
    assertTrue(r.out().contains("7 tasks succeeded"), r::toString);
    var squares = contents("squared");
    squares.sort(null);
    assertEquals(List.of("1\n", "16\n", "25\n", "4\n", "9\n"), squares);
    assertEquals(List.of("nested\n"), contents("parts/deep/001"));
    assertEquals(List.of(""), contents("empty"));
  }

  @Test
  void outputsCanBeRewrittenRenamedAndReadBack() throws Exception {
    Path m =
        manifest(
            "files.toml",
            """
            [[step]]
            name = "files"
            script = '''
            echo first > $OUTPUT_DIR/a
            echo second > $OUTPUT_DIR/a
            echo tmp > $OUTPUT_DIR/tmp
            mv $OUTPUT_DIR/tmp $OUTPUT_DIR/renamed
            cat $OUTPUT_DIR/a $OUTPUT_DIR/renamed > $OUTPUT_DIR/both
            echo gone > $OUTPUT_DIR/deleted
            rm $OUTPUT_DIR/deleted
            '''
            """);
    ok("run", m.toString(), "--db", "db");
    assertEquals(List.of("second\n"), contents("a"));
    assertEquals(List.of("second\ntmp\n"), contents("both"));
    assertEquals(List.of("tmp\n"), contents("renamed"));
    assertEquals(1, grit.run("export", "tmp", "--db", "db").exit());
    assertEquals(1, grit.run("export", "deleted", "--db", "db").exit());
  }

  @Test
  void scriptsSeeTheirEnvironment() throws Exception {
    Path m =
        manifest(
            "env.toml",
            """
            [[step]]
            name = "start"
            env = { GREETING = "hello" }
            script = '''
            echo "in=[$INPUT_FILE] greet=$GREETING attempt=$GRIT_ATTEMPT step=$GRIT_STEP" > $OUTPUT_DIR/seen
            cat > $OUTPUT_DIR/stdin
            '''

            [[step]]
            name = "next"
            inputs = ["seen"]
            script = '''
            echo "$GRIT_INPUT_NAME $GRIT_INPUT_HASH" > $OUTPUT_DIR/input
            case $(stat -c %A "$INPUT_FILE") in *w*) echo writable ;; *) echo readonly ;; esac >> $OUTPUT_DIR/input
            '''
            """);
    ok("run", m.toString(), "--db", "db");
    assertEquals(List.of("in=[] greet=hello attempt=1 step=start\n"), contents("seen"));
    assertEquals(List.of(""), contents("stdin"));
    String seenHash = ok("export", "seen", "--db", "db").out().split("\t")[0];
    assertEquals(List.of("seen " + seenHash + "\nreadonly\n"), contents("input"));
  }

  @Test
  void failingScriptsRetryThenFailTheRunWhileOthersGoOn() throws Exception {
    Path m =
        manifest(
            "fail.toml",
            """
            [[step]]
            name = "start"
            script = "echo a > $OUTPUT_DIR/good; echo b > $OUTPUT_DIR/bad"

            [[step]]
            name = "fine"
            inputs = ["good"]
            script = "cp $INPUT_FILE $OUTPUT_DIR/fine"

            [[step]]
            name = "broken"
            inputs = ["bad"]
            retries = 2
            retry_backoff = "10ms"
            script = "echo trying $GRIT_ATTEMPT; echo partial > $OUTPUT_DIR/partial; exit 3"
            """);
    Result r = grit.run("run", m.toString(), "--db", "db");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.err().contains("exit status 3"), r::toString);
    assertEquals(List.of("a\n"), contents("fine"));
    // Outputs of failed attempts are never published.
    assertEquals(1, grit.run("export", "partial", "--db", "db").exit());
    String taskId = r.err().replaceAll("(?s).*grit logs (\\d+).*", "$1");
    String logs = ok("logs", taskId, "--db", "db").out();
    assertTrue(logs.contains("trying 1") && logs.contains("trying 2") && logs.contains("trying 3"), logs);
    assertFalse(logs.contains("trying 4"), logs);
  }

  @Test
  void timeoutKillsTheScript() throws Exception {
    Path m =
        manifest(
            "slow.toml",
            """
            [[step]]
            name = "slow"
            timeout = "1s"
            script = "sleep 60 & sleep 60; echo late > $OUTPUT_DIR/late"
            """);
    long t0 = System.nanoTime();
    Result r = grit.run("run", m.toString(), "--db", "db");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.err().contains("timed out"), r::toString);
    assertTrue(System.nanoTime() - t0 < 50_000_000_000L, "the time-out did not stop the run");
  }

  @Test
  void stepAndStartFiltersChooseWhatRuns() throws Exception {
    Path m = manifest("workflow.toml", README);
    Result only = ok("run", m.toString(), "--db", "db", "--step", "start", "--step", "transform");
    assertTrue(only.out().contains("2 tasks succeeded"), only::toString);
    assertEquals(1, grit.run("export", "processed", "--db", "db").exit());
    // The next full run picks up what the filtered one left.
    Result rest = ok("run", m.toString(), "--db", "db");
    assertTrue(rest.out().contains("1 tasks succeeded"), rest::toString);

    Path other = dir.resolve("other");
    Files.createDirectories(other);
    var g2 = new Grit(other, Map.of("GRIT_OUTPUT", outputMode()));
    Result fromProcess = g2.run("run", m.toString(), "--db", "db", "-start", "process");
    assertEquals(0, fromProcess.exit(), fromProcess::toString);
    assertTrue(fromProcess.out().contains("0 tasks succeeded"), fromProcess::toString);
  }

  @Test
  void parallelOneRunsTasksOneAtATime() throws Exception {
    Path m =
        manifest(
            "par.toml",
            """
            [[step]]
            name = "start"
            script = "for i in 1 2 3 4; do echo $i > $OUTPUT_DIR/n_$i; done"
            [[step]]
            name = "each"
            inputs = ["n_*"]
            script = '''
            mkdir %1$s/lock 2>/dev/null || { echo overlap > $OUTPUT_DIR/overlap; exit 0; }
            sleep 0.1
            rmdir %1$s/lock
            cp $INPUT_FILE $OUTPUT_DIR/done
            '''
            """
                .formatted(dir));
    ok("run", m.toString(), "--db", "db", "-parallel", "1");
    assertEquals(1, grit.run("export", "overlap", "--db", "db").exit());
    assertEquals(4, contents("done").size());
  }

  @Test
  void aStepConsumingItsOwnOutputStopsWhenItRepeats() throws Exception {
    Path m =
        manifest(
            "loop.toml",
            """
            [[step]]
            name = "seed"
            script = "echo 1 > $OUTPUT_DIR/n"
            [[step]]
            name = "count"
            inputs = ["n"]
            script = "n=$(cat $INPUT_FILE); if [ $n -lt 5 ]; then n=$((n+1)); fi; echo $n > $OUTPUT_DIR/n"
            """);
    ok("run", m.toString(), "--db", "db", "--quiet");
    var values = contents("n");
    values.sort(null);
    assertEquals(List.of("1\n", "2\n", "3\n", "4\n", "5\n"), values);
  }

  @Test
  void badManifestsAreRejectedAndWriteNothing() throws Exception {
    Path m =
        manifest(
            "bad.toml",
            """
            [[step]]
            name = "a"
            script = "true"
            parallel = 0
            colour = "blue"
            """);
    Result r = grit.run("run", m.toString(), "--db", "db");
    assertEquals(2, r.exit(), r::toString);
    assertTrue(r.err().contains("bad.toml:4"), r::toString);
    assertTrue(r.err().contains("colour"), r::toString);
    assertFalse(Files.exists(dir.resolve("db")), "a rejected manifest must write nothing");
    assertEquals(2, grit.run("lint", m.toString()).exit());
    Result missing = grit.run("run", "nope.toml", "--db", "db");
    assertEquals(2, missing.exit(), missing::toString);
    assertTrue(missing.err().contains("nope.toml"), missing::toString);
  }

  @Test
  void badExportRequestsFailCleanly() throws Exception {
    ok("run", manifest("workflow.toml", README).toString(), "--db", "db", "--quiet");
    for (String hash : List.of("xyz", "0".repeat(64), "g".repeat(64))) {
      Result r = grit.run("export-hash", hash, "--db", "db");
      assertEquals(1, r.exit(), r::toString);
      assertFalse(r.err().contains("Exception"), r::toString);
    }
    Result none = grit.run("export", "nothing-like-this", "--db", "db");
    assertEquals(1, none.exit());
    Result noDb = grit.run("export", "x", "--db", "nowhere");
    assertEquals(1, noDb.exit(), noDb::toString);
    assertFalse(noDb.err().contains("Exception"), noDb::toString);
  }

  static List<String> lines(String s) {
    return Arrays.stream(s.split("\n")).filter(l -> !l.isBlank()).toList();
  }
}
