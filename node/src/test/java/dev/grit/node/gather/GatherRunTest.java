package dev.grit.node.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.node.testing.Examples;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.Grit.Result;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gather steps end to end through the real command line (embedded node in a child JVM): the
 * wordcount example against {@code tr | sort | uniq -c}, incremental reruns, the barrier over a
 * retried producer, a failed producer, and lineage.
 */
class GatherRunTest {
  @TempDir Path dir;
  private Grit grit;

  @BeforeEach
  void setUp() {
    grit = new Grit(dir, Map.of());
  }

  private Result ok(String... args) throws Exception {
    Result r = grit.run(args);
    assertEquals(0, r.exit(), () -> String.join(" ", args) + " failed:\n" + r);
    return r;
  }

  /** The bytes of the newest resource named {@code name}. */
  private String newest(String name) throws Exception {
    String hash = ok("export", name, "--db", "db").out().split("\t")[0];
    return ok("export-hash", hash, "--db", "db").out();
  }

  static Path example(String file) {
    return Examples.path(file);
  }

  /** The text the wordcount example splits: between its {@code <<'TEXT'} and {@code TEXT}. */
  static String wordcountText(String manifest) {
    int start = manifest.indexOf("<<'TEXT'\n") + "<<'TEXT'\n".length();
    int end = manifest.indexOf("\nTEXT\n", start);
    return manifest.substring(start, end + 1);
  }

  /** {@code tr | sort | uniq -c} of {@code text}, run by sh as the example's scripts run. */
  static String trSortUniq(String text) throws IOException, InterruptedException {
    var pb =
        new ProcessBuilder(
            "sh", "-c", "tr -cs 'A-Za-z' '\\n' | tr 'A-Z' 'a-z' | grep . | sort | uniq -c");
    pb.environment().put("LC_ALL", "C");
    Process p = pb.start();
    try (var in = p.getOutputStream()) {
      in.write(text.getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue());
    return out;
  }

  @Test
  void theWordcountExampleCountsAsTrSortUniqDoesAndRerunsIncrementally() throws Exception {
    String manifest = Files.readString(example("wordcount.toml"));
    Path m = dir.resolve("wordcount.toml");
    Files.writeString(m, manifest);
    String text = wordcountText(manifest);

    Result first = ok("run", m.toString(), "--db", "db");
    // split, a count per chunk of four lines, one total.
    long chunks = text.lines().count() / 4 + (text.lines().count() % 4 == 0 ? 0 : 1);
    assertTrue(first.out().contains((chunks + 2) + " tasks succeeded"), first::toString);
    assertTrue(first.out().contains("✓ total #"), first::toString);
    assertTrue(first.out().contains("(" + chunks + " inputs)"), first::toString);
    assertEquals(trSortUniq(text), newest("total"));

    // Nothing changed: nothing runs.
    assertTrue(ok("run", m.toString(), "--db", "db").out().contains("0 tasks succeeded"));

    // One line edited: a new split, one chunk counted again, the total once more.
    String edited = manifest.replace("It is altogether fitting", "It is altogether right");
    Files.writeString(m, edited);
    Result again = ok("run", m.toString(), "--db", "db");
    assertTrue(again.out().contains("3 tasks succeeded"), again::toString);
    assertEquals(trSortUniq(wordcountText(edited)), newest("total"));

    // Undone: the first set of counts is known, its total task found again, nothing runs.
    Files.writeString(m, manifest);
    assertTrue(ok("run", m.toString(), "--db", "db").out().contains("0 tasks succeeded"));

    // Lineage of the total: the gather task and every count it took, each back to split.
    JsonNode up =
        new ObjectMapper().readTree(ok("lineage", "total", "--db", "db", "-o", "json").out());
    JsonNode gatherTask = up.path("tasks").get(0);
    assertEquals("total", gatherTask.path("step").asText());
    assertTrue(gatherTask.path("gather").asBoolean());
    assertEquals(chunks, gatherTask.path("inputs").size());
    List<String> steps = new ArrayList<>();
    up.path("tasks").forEach(t -> steps.add(t.path("step").asText()));
    // The total, a count per chunk, and both versions of split: each published equal chunks.
    assertEquals(1, steps.stream().filter("total"::equals).count(), steps::toString);
    assertEquals(chunks, steps.stream().filter("count"::equals).count(), steps::toString);
    assertEquals(2, steps.stream().filter("split"::equals).count(), steps::toString);
    String tree = ok("lineage", "total", "--db", "db").out();
    assertTrue(tree.startsWith("total  "), tree);
    assertTrue(tree.contains("└─ task "), tree);
    assertTrue(tree.contains("total v1  SUCCEEDED"), tree);
    assertTrue(tree.contains("gather of " + chunks + " inputs"), tree);
    assertTrue(tree.contains("counts/chunk_000"), tree);
    assertTrue(tree.contains("(start step)"), tree);

    // Downward from a chunk: its count, that count's total.
    String down = ok("lineage", "chunk_000", "--down", "--depth", "2", "--db", "db").out();
    assertTrue(down.contains("count v1"), down);
    assertTrue(down.contains("total v1"), down);
    assertTrue(down.contains("gather"), down);
    Result missing = grit.run("lineage", "no-such-resource", "--db", "db");
    assertEquals(1, missing.exit(), missing::toString);
    assertTrue(missing.err().contains("no resource named no-such-resource"), missing::toString);
  }

  @Test
  void theGatherWaitsForARetriedProducerAndAFailedOneKeepsItFromRunning() throws Exception {
    Path flaky = dir.resolve("flaky-once");
    Path m = dir.resolve("sum.toml");
    Files.writeString(
        m,
        """
        name = "sum"

        [[step]]
        name = "numbers"
        script = "for i in 1 2 3 4; do echo $i > $OUTPUT_DIR/n_$i; done"

        [[step]]
        name = "double"
        inputs = ["n_*"]
        retries = 1
        retry_backoff = "200ms"
        script = '''
        if [ "$GRIT_INPUT_NAME" = n_3 ] && [ ! -e %s ]; then touch %s; exit 1; fi
        if [ "$GRIT_INPUT_NAME" = n_4 ] && [ -n "$BREAK" ]; then exit 7; fi
        mkdir -p $OUTPUT_DIR/doubled
        echo $(( $(cat $INPUT_FILE) * 2 )) > $OUTPUT_DIR/doubled/$GRIT_INPUT_NAME
        '''

        [[step]]
        name = "sum"
        inputs = ["doubled/*"]
        gather = true
        script = "cut -f3 $INPUT_LIST | xargs cat | awk '{ s += $1 } END { print s }' > $OUTPUT_DIR/sum"
        """
            .formatted(flaky, flaky));
    Result run = ok("run", m.toString(), "--db", "db");
    assertTrue(run.out().contains("✗ double #"), run::toString);
    assertTrue(run.out().contains("will retry"), run::toString);
    assertEquals("20\n", newest("sum"), "the gather saw every doubled number, the retried one too");

    // A producer that fails for good: the gather step does not run and the run says why.
    Files.writeString(m, Files.readString(m).replace("[ -n \"$BREAK\" ]", "true"));
    Result failed = grit.run("run", m.toString(), "--db", "db");
    assertEquals(1, failed.exit(), failed::toString);
    assertTrue(
        failed.err().contains("gather step sum did not run: task ")
            && failed.err().contains("(step double) failed"),
        failed::toString);
    assertEquals("20\n", newest("sum"), "no new sum");
  }

  @Test
  void anAddedInputRerunsTheGatherOnceAndAnUnchangedTotalCutsOffWhatFollows() throws Exception {
    Path ledger = dir.resolve("ledger");
    Files.createFile(ledger);
    Path m = dir.resolve("sum.toml");
    String manifest =
        """
        name = "sum"

        [[step]]
        name = "numbers"
        script = "for i in NUMBERS; do echo $i > $OUTPUT_DIR/n_$i; done"

        [[step]]
        name = "double"
        inputs = ["n_*"]
        script = '''
        mkdir -p $OUTPUT_DIR/doubled
        echo $(( $(cat $INPUT_FILE) * 2 )) > $OUTPUT_DIR/doubled/$GRIT_INPUT_NAME
        '''

        [[step]]
        name = "sum"
        inputs = ["doubled/*"]
        gather = true
        script = '''
        echo "sum $(wc -l < $INPUT_LIST)" >> %1$s
        cut -f3 $INPUT_LIST | xargs cat | awk '{ s += $1 } END { print s }' > $OUTPUT_DIR/sum
        '''

        [[step]]
        name = "report"
        inputs = ["sum"]
        script = "echo report >> %1$s; cp $INPUT_FILE $OUTPUT_DIR/report"
        """
            .formatted(ledger);
    Files.writeString(m, manifest.replace("NUMBERS", "1 2 3 4"));
    ok("run", m.toString(), "--db", "db");
    assertEquals(List.of("sum 4", "report"), Files.readAllLines(ledger));
    assertEquals("20\n", newest("report"));

    // One added input: numbers again, one double, the gather once over all five, the report.
    Files.writeString(m, manifest.replace("NUMBERS", "1 2 3 4 5"));
    Result added = ok("run", m.toString(), "--db", "db");
    assertTrue(added.out().contains("4 tasks succeeded"), added::toString);
    assertEquals(List.of("sum 4", "report", "sum 5", "report"), Files.readAllLines(ledger));
    assertEquals("30\n", newest("report"));

    // 0 joins: a new set, so the gather runs, but its total is the same bytes as before, so the
    // report does not run again.
    Files.writeString(m, manifest.replace("NUMBERS", "0 1 2 3 4 5"));
    Result same = ok("run", m.toString(), "--db", "db");
    assertTrue(same.out().contains("3 tasks succeeded"), same::toString);
    assertEquals(
        List.of("sum 4", "report", "sum 5", "report", "sum 6"), Files.readAllLines(ledger));
    assertEquals("30\n", newest("sum"));
  }

  @Test
  void lintExplainsGatherStepsAndWarnsAboutAFixedName() throws Exception {
    Result lint = ok("lint", example("wordcount.toml").toString());
    assertTrue(lint.out().contains("note: "), lint::toString);
    assertTrue(lint.out().contains("step[2].gather: one task over every current resource"), lint::toString);
    assertTrue(lint.out().contains("ok (3 steps)"), lint::toString);

    Path fixed = dir.resolve("fixed.toml");
    Files.writeString(
        fixed,
        Files.readString(example("wordcount.toml"))
            .replace("\"$OUTPUT_DIR/counts/$GRIT_INPUT_NAME\"", "\"$OUTPUT_DIR/counts/all\""));
    Result warned = ok("lint", fixed.toString());
    assertTrue(warned.err().contains("gathers \"counts/all\", which step \"count\" writes"), warned::toString);

    Path noInputs = dir.resolve("bad.toml");
    Files.writeString(noInputs, "[[step]]\nname = \"g\"\ngather = true\nscript = \"true\"\n");
    Result bad = grit.run("lint", noInputs.toString());
    assertEquals(2, bad.exit(), bad::toString);
    assertTrue(bad.err().contains("bad.toml:3:1: step[0].gather: gather = true but the step has no inputs"), bad::toString);
  }

  @Test
  void lintPrintsItsFindingsAsJsonForPrograms() throws Exception {
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var lint = json.readTree(ok("lint", "-o", "json", example("wordcount.toml").toString()).out());
    assertTrue(lint.get("ok").asBoolean(), lint::toString);
    assertEquals(3, lint.get("steps").asInt(), lint::toString);
    assertEquals(0, lint.get("errors").size(), lint::toString);
    assertEquals("step[2].gather", lint.get("notes").get(0).get("field").asText(), lint::toString);

    Path noInputs = dir.resolve("bad.toml");
    Files.writeString(noInputs, "[[step]]\nname = \"g\"\ngather = true\nscript = \"true\"\n");
    Result bad = grit.run("lint", "-o", "jsonl", noInputs.toString());
    assertEquals(2, bad.exit(), bad::toString);
    assertEquals(1, bad.out().lines().count(), bad::toString);
    var error = json.readTree(bad.out()).get("errors").get(0);
    assertEquals(noInputs.toString(), error.get("file").asText(), bad::toString);
    assertEquals(3, error.get("line").asInt(), bad::toString);
    assertEquals(1, error.get("column").asInt(), bad::toString);
    assertEquals("step[0].gather", error.get("field").asText(), bad::toString);
    assertTrue(error.get("message").asText().startsWith("gather = true but the step has no inputs"), bad::toString);
  }
}
