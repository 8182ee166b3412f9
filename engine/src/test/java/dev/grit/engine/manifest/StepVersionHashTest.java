package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A step's version hash names the version whose outputs it produces: it must follow what changes
 * those outputs and ignore what only changes how the step is scheduled.
 */
class StepVersionHashTest {
  private static final Step BASE =
      new Step(
          "s",
          "sort < $INPUT_FILE > $OUTPUT_DIR/sorted",
          List.of("raw", "more_*"),
          2,
          1,
          Duration.ofSeconds(1),
          Duration.ofMinutes(5),
          Map.of("LC_ALL", "C"),
          0,
          10);

  @Test
  void equalStepsHaveEqualHashes() {
    Step copy =
        new Step(
            "s",
            "sort < $INPUT_FILE > $OUTPUT_DIR/sorted",
            List.of("raw", "more_*"),
            2,
            1,
            Duration.ofSeconds(1),
            Duration.ofMinutes(5),
            Map.of("LC_ALL", "C"),
            0,
            10);
    assertEquals(BASE.versionHash(), copy.versionHash());
  }

  @Test
  void theHashFollowsScriptInputsAndEnv() {
    assertChanges(s -> with(s, "sort -r < $INPUT_FILE > $OUTPUT_DIR/sorted", s.inputs(), s.env()));
    assertChanges(s -> with(s, s.script() + "\n", s.inputs(), s.env()));
    assertChanges(s -> with(s, s.script(), List.of("raw"), s.env()));
    assertChanges(s -> with(s, s.script(), List.of("more_*", "raw"), s.env()));
    assertChanges(s -> with(s, s.script(), List.of(), s.env()));
    assertChanges(s -> with(s, s.script(), s.inputs(), Map.of("LC_ALL", "en_US.UTF-8")));
    assertChanges(s -> with(s, s.script(), s.inputs(), Map.of("LANG", "C")));
    assertChanges(s -> with(s, s.script(), s.inputs(), Map.of()));
  }

  @Test
  void gatheringIsPartOfTheVersionWithoutChangingTheHashOfOtherSteps() {
    Step gathering =
        new Step(
            BASE.name(),
            BASE.script(),
            BASE.inputs(),
            true,
            BASE.parallel(),
            BASE.retries(),
            BASE.retryBackoff(),
            BASE.timeout(),
            BASE.env(),
            BASE.priority(),
            BASE.line());
    assertNotEquals(BASE.versionHash(), gathering.versionHash());
    // The hash BASE had before gather steps existed: stored step versions keep their identity.
    assertEquals(
        "e856d3ec86a977c239c07abd4ec3ec52ba58fdecc75e0d5dd02a7db98fdae0af",
        BASE.versionHash().toString());
  }

  @Test
  void fieldBoundariesAreNotAmbiguous() {
    // "ab" + "c" and "a" + "bc" must not collide however the fields are laid out.
    Step one = with(BASE, BASE.script(), List.of("ab", "c"), Map.of());
    Step two = with(BASE, BASE.script(), List.of("a", "bc"), Map.of());
    assertNotEquals(one.versionHash(), two.versionHash());
    Step three = with(BASE, BASE.script(), List.of(), Map.of("A", "BC"));
    Step four = with(BASE, BASE.script(), List.of(), Map.of("AB", "C"));
    assertNotEquals(three.versionHash(), four.versionHash());
  }

  @Test
  void theOrderEnvIsWrittenInDoesNotMatter() {
    var ab = new LinkedHashMap<String, String>();
    ab.put("A", "1");
    ab.put("B", "2");
    var ba = new LinkedHashMap<String, String>();
    ba.put("B", "2");
    ba.put("A", "1");
    assertEquals(
        with(BASE, BASE.script(), BASE.inputs(), ab).versionHash(),
        with(BASE, BASE.script(), BASE.inputs(), ba).versionHash());
  }

  @Test
  void schedulingOptionsNameAndLineDoNotChangeTheHash() {
    Step other =
        new Step(
            "renamed",
            BASE.script(),
            BASE.inputs(),
            Step.UNLIMITED,
            100,
            Duration.ofMinutes(3),
            Duration.ZERO,
            BASE.env(),
            99,
            1);
    assertEquals(BASE.versionHash(), other.versionHash());
  }

  @Test
  void theSameManifestTextGivesTheSameHashesEveryTime() throws Exception {
    String text = "[[step]]\nname = \"s\"\nscript = \"true\"\ninputs = [\"x\"]\n";
    assertEquals(
        ManifestParser.parse("a", text, "a").steps().get(0).versionHash(),
        ManifestParser.parse("b", "# moved down\n\n" + text, "b").steps().get(0).versionHash());
  }

  private static void assertChanges(UnaryOperator<Step> change) {
    assertNotEquals(BASE.versionHash(), change.apply(BASE).versionHash());
  }

  private static Step with(Step s, String script, List<String> inputs, Map<String, String> env) {
    return new Step(
        s.name(),
        script,
        inputs,
        s.parallel(),
        s.retries(),
        s.retryBackoff(),
        s.timeout(),
        env,
        s.priority(),
        s.line());
  }
}
