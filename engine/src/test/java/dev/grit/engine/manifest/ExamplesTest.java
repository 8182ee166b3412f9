package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The manifests under the repository's {@code examples/} are documentation: they must be clean. */
class ExamplesTest {
  @ParameterizedTest
  @ValueSource(strings = {"workflow.toml", "fanout.toml", "retries.toml", "wordcount.toml"})
  void parsesWithoutErrorsOrWarnings(String file) throws Exception {
    Manifest m = ManifestParser.parse(example(file));
    assertEquals(List.of(), Lint.warnings(m));
  }

  @Test
  void workflowIsTheGritReadmeExample() throws Exception {
    Manifest m = ManifestParser.parse(example("workflow.toml"));
    assertEquals("workflow", m.name());
    assertEquals(List.of("start", "process", "transform"), names(m));
    assertTrue(m.step("start").orElseThrow().isStart());
    assertEquals(List.of("dataset-v1"), m.step("process").orElseThrow().inputs());
    Step transform = m.step("transform").orElseThrow();
    assertEquals(List.of("dataset-v2"), transform.inputs());
    assertEquals(2, transform.parallel());
  }

  @Test
  void fanoutGivesOneTaskPerChunkAndPerResult() throws Exception {
    Manifest m = ManifestParser.parse(example("fanout.toml"));
    Step square = m.step("square").orElseThrow();
    Step report = m.step("report").orElseThrow();
    List<String> chunks =
        IntStream.rangeClosed(1, 20).mapToObj(i -> String.format("chunk_%03d", i)).toList();
    assertTrue(chunks.stream().allMatch(square::consumes));
    assertTrue(chunks.stream().map(c -> "squared/" + c).allMatch(report::consumes));
    assertTrue(chunks.stream().map(c -> "squared/" + c).noneMatch(square::consumes));
    assertTrue(chunks.stream().map(c -> "report/" + c).noneMatch(report::consumes));
  }

  @Test
  void retriesShowsEveryExtension() throws Exception {
    Manifest m = ManifestParser.parse(example("retries.toml"));
    Step flaky = m.step("flaky").orElseThrow();
    assertEquals(3, flaky.retries());
    assertEquals(Duration.ofMillis(500), flaky.retryBackoff());
    assertEquals(Duration.ofMinutes(1), flaky.timeout());
    Step generate = m.step("generate").orElseThrow();
    assertEquals(Map.of("LC_ALL", "C", "ROWS", "5"), generate.env());
    assertEquals(10, generate.priority());
    Step summarize = m.step("summarize").orElseThrow();
    assertEquals(Duration.ofSeconds(30), summarize.timeout());
    assertEquals(-1, summarize.priority());
    assertEquals("rows, last first:", summarize.env().get("HEADER"));
  }

  @Test
  void wordcountGathersTheCountsOfEveryChunkNamedAfterIt() throws Exception {
    Manifest m = ManifestParser.parse(example("wordcount.toml"));
    assertEquals(List.of("split", "count", "total"), names(m));
    Step total = m.step("total").orElseThrow();
    assertTrue(total.gather());
    assertTrue(total.consumes("counts/chunk_000"));
    assertTrue(m.step("count").orElseThrow().script().contains("$GRIT_INPUT_NAME"));
    assertEquals(1, Lint.notes(m).size());
  }

  private static List<String> names(Manifest m) {
    return m.steps().stream().map(Step::name).toList();
  }

  /** The examples directory sits at the root of the source tree, above this module. */
  private static Path example(String file) {
    Path dir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    for (Path d = dir; d != null; d = d.getParent()) {
      Path candidate = d.resolve("examples").resolve(file);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError("no examples/" + file + " above " + dir);
  }
}
