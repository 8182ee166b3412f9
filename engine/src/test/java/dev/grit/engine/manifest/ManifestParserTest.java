package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the golden files do not show: files, names, defaults and the shape of errors. */
class ManifestParserTest {
  private static final String MINIMAL =
      """
      [[step]]
      name = "only"
      script = "echo hi > $OUTPUT_DIR/hi"
      """;

  @TempDir Path dir;

  @Test
  void aFileIsNamedAfterItselfWithoutItsExtension() throws Exception {
    Path file = Files.writeString(dir.resolve("my-flow.toml"), MINIMAL);
    Manifest m = ManifestParser.parse(file);
    assertEquals("my-flow", m.name());
    assertEquals(file.toString(), m.source());
    assertEquals(MINIMAL, m.text());
  }

  @Test
  void theManifestsOwnNameWinsOverTheFileName() throws Exception {
    Path file = Files.writeString(dir.resolve("workflow.toml"), "name = \"nightly\"\n" + MINIMAL);
    assertEquals("nightly", ManifestParser.parse(file).name());
  }

  @Test
  void onlyTheLastExtensionIsDropped() {
    assertEquals("a.b", ManifestParser.baseName(Path.of("x", "a.b.toml")));
    assertEquals("Gritfile", ManifestParser.baseName(Path.of("Gritfile")));
    assertEquals(".hidden", ManifestParser.baseName(Path.of(".hidden")));
  }

  @Test
  void aMissingFileIsAnErrorNamingItsPath() {
    Path missing = dir.resolve("nope").resolve("absent.toml");
    var e = assertThrows(ManifestException.class, () -> ManifestParser.parse(missing));
    assertEquals(1, e.problems().size());
    Problem p = e.problems().get(0);
    assertEquals(missing.toString(), p.source());
    assertEquals(0, p.line());
    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void aDirectoryIsNotAManifest() {
    var e = assertThrows(ManifestException.class, () -> ManifestParser.parse(dir));
    assertTrue(e.getMessage().startsWith(dir + ": cannot read manifest"), e.getMessage());
  }

  @Test
  void bytesThatAreNotUtf8AreRefused() throws Exception {
    Path file = Files.write(dir.resolve("bin.toml"), new byte[] {'a', ' ', '=', ' ', (byte) 0xff});
    var e = assertThrows(ManifestException.class, () -> ManifestParser.parse(file));
    assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
  }

  @Test
  void withoutANameTheDefaultNameIsUsed() throws Exception {
    assertEquals("given", ManifestParser.parse("request", MINIMAL, "given").name());
  }

  @Test
  void aDefaultNameThatIsNotAValidNameAsksForAnExplicitOne() {
    var e =
        assertThrows(
            ManifestException.class,
            () -> ManifestParser.parse("my flow.toml", MINIMAL, "my flow"));
    assertEquals(
        "my flow.toml: name: the pipeline name taken from the file name \"my flow\" may contain"
            + " only letters, digits, '-', '_' and '.'; set name = \"...\" at the top of the"
            + " manifest",
        e.getMessage());
  }

  @Test
  void optionalKeysTakeTheirDefaults() throws Exception {
    Step s = ManifestParser.parse("t", MINIMAL, "t").steps().get(0);
    assertAll(
        () -> assertEquals("only", s.name()),
        () -> assertEquals("echo hi > $OUTPUT_DIR/hi", s.script()),
        () -> assertEquals(List.of(), s.inputs()),
        () -> assertTrue(s.isStart()),
        () -> assertEquals(Step.UNLIMITED, s.parallel()),
        () -> assertEquals(0, s.retries()),
        () -> assertEquals(Step.DEFAULT_RETRY_BACKOFF, s.retryBackoff()),
        () -> assertEquals(Duration.ZERO, s.timeout()),
        () -> assertEquals(Map.of(), s.env()),
        () -> assertEquals(0, s.priority()),
        () -> assertEquals(1, s.line()));
  }

  @Test
  void everyExtensionKeyReachesTheStep() throws Exception {
    String text =
        """
        name = "p"

        [[step]]
        name = "s"
        inputs = ["b", "a*"]
        script = "true"
        parallel = 7
        retries = 3
        retry_backoff = "250ms"
        timeout = "1m30s"
        env = { K = "v", L = "" }
        priority = -4
        """;
    Step s = ManifestParser.parse("t", text, "t").steps().get(0);
    assertAll(
        () -> assertEquals(List.of("b", "a*"), s.inputs()),
        () -> assertFalse(s.isStart()),
        () -> assertEquals(7, s.parallel()),
        () -> assertEquals(3, s.retries()),
        () -> assertEquals(Duration.ofMillis(250), s.retryBackoff()),
        () -> assertEquals(Duration.ofSeconds(90), s.timeout()),
        () -> assertEquals(Map.of("K", "v", "L", ""), s.env()),
        () -> assertEquals(-4, s.priority()),
        () -> assertEquals(3, s.line()));
  }

  @Test
  void startTrueOnAStepWithoutInputsIsAccepted() throws Exception {
    String text = "[[step]]\nname = \"s\"\nstart = true\nscript = \"true\"\n";
    assertTrue(ManifestParser.parse("t", text, "t").steps().get(0).isStart());
  }

  @Test
  void inlineAndSubTableSpellingsGiveTheSameStep() throws Exception {
    String inline =
        "[[step]]\nname = \"s\"\nscript = \"true\"\ntimeout = 60\nenv = { A = \"1\" }\n";
    String subTable =
        "[[step]]\nname = \"s\"\nscript = \"true\"\ntimeout = \"1m\"\n[step.env]\nA = \"1\"\n";
    assertEquals(
        ManifestParser.parse("t", inline, "t").steps(),
        ManifestParser.parse("t", subTable, "t").steps());
  }

  @Test
  void everyProblemIsReportedInTextOrderOnePerLineOfTheMessage() {
    String text =
        """
        [[step]]
        name = "b"
        script = "true"
        parallel = 0

        [[step]]
        name = "a"
        script = ""
        bogus = 1
        """;
    var e = assertThrows(ManifestException.class, () -> ManifestParser.parse("w.toml", text, "w"));
    assertEquals(
        List.of(
            new Problem(
                "w.toml", 4, 1, "step[0].parallel", "must be at least 1 (GRIT stalls on 0)"),
            new Problem("w.toml", 8, 1, "step[1].script", "must not be empty"),
            new Problem(
                "w.toml",
                9,
                1,
                "step[1].bogus",
                "unknown key (a step may have: name, script, inputs, gather, start, parallel, retries,"
                    + " retry_backoff, timeout, env, priority)")),
        e.problems());
    assertEquals(3, e.getMessage().lines().count());
    assertTrue(
        e.getMessage().startsWith("w.toml:4:1: step[0].parallel: must be at least 1"),
        e.getMessage());
  }

  @Test
  void problemsRenderLikeCompilerMessages() {
    assertEquals(
        "workflow.toml:12:3: step[2].parallel: must be at least 1 (GRIT stalls on 0)",
        new Problem(
                "workflow.toml", 12, 3, "step[2].parallel", "must be at least 1 (GRIT stalls on 0)")
            .toString());
    assertEquals("w.toml:12: name: m", new Problem("w.toml", 12, 0, "name", "m").toString());
    assertEquals("w.toml: step: m", new Problem("w.toml", 0, 7, "step", "m").toString());
    assertEquals("w.toml: m", new Problem("w.toml", 0, 0, "", "m").toString());
    assertEquals("m", new Problem(null, 0, 0, null, "m").toString());
  }

  @Test
  void anExceptionNeedsAProblem() {
    assertThrows(IllegalArgumentException.class, () -> new ManifestException(List.of()));
  }
}
