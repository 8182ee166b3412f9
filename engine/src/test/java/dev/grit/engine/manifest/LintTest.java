package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LintTest {
  @Test
  void literalOutputNamesAreReadOffTheScript() {
    var scan =
        ScriptOutputs.scan(
            """
            echo a > $OUTPUT_DIR/plain
            echo b > "$OUTPUT_DIR/quoted"
            echo c > ${OUTPUT_DIR}/braced
            echo d > "${OUTPUT_DIR}/braced-quoted";
            echo e > "$OUTPUT_DIR"/outside-quotes
            echo f >$OUTPUT_DIR/parts/001|cat
            echo g > $OUTPUT_DIR/./dotted
            x=$(cat $OUTPUT_DIR/read-back)
            """);
    assertEquals(
        Set.of(
            "plain",
            "quoted",
            "braced",
            "braced-quoted",
            "outside-quotes",
            "parts/001",
            "dotted",
            "read-back"),
        scan.literalNames());
    assertFalse(scan.dynamic());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "echo x > $OUTPUT_DIR/chunk_$i",
        "echo x > \"$OUTPUT_DIR/$(printf 'c_%03d' 1)\"",
        "cp $INPUT_FILE $OUTPUT_DIR/",
        "cp $INPUT_FILE $OUTPUT_DIR",
        "cd $OUTPUT_DIR && echo x > y",
        "split -l 10 $INPUT_FILE ${OUTPUT_DIR}/part-*",
        "echo x > ${OUTPUT_DIR:-/tmp}/y",
        "python3 -c 'import os; open(os.environ[\"OUTPUT_DIR\"] + \"/y\", \"w\")'",
        "echo x > $OUTPUT_DIR/{a,b}",
        "echo x > $OUTPUT_DIR/../escape",
        "tar -xf $INPUT_FILE -C \"$OUTPUT_DIR\"",
        "./write-outputs.sh",
      })
  void namesThatCannotBeReadOffTheTextMakeTheScriptDynamic(String script) {
    assertTrue(ScriptOutputs.scan(script).dynamic(), script);
  }

  @Test
  void otherVariablesThatContainTheNameAreNotOutputs() {
    var scan =
        ScriptOutputs.scan("echo $MY_OUTPUT_DIR $OUTPUT_DIRS ${OUTPUT_DIR_X} > $OUTPUT_DIR/real");
    assertEquals(Set.of("real"), scan.literalNames());
    assertFalse(scan.dynamic());
  }

  @Test
  void aPipelineWhoseOutputsAreAllLiteralAndConsumedHasNoWarnings() throws Exception {
    assertEquals(
        List.of(),
        lint(
            """
            [[step]]
            name = "a"
            script = "echo > $OUTPUT_DIR/x"
            [[step]]
            name = "b"
            inputs = ["x"]
            script = "true"
            """));
  }

  @Test
  void aGlobMatchingTheStepsOwnLiteralOutputIsSelfConsuming() throws Exception {
    List<Problem> warnings =
        lint(
            """
            [[step]]
            name = "a"
            script = "echo > $OUTPUT_DIR/n_1"
            [[step]]
            name = "grow"
            inputs = ["n_*"]
            script = "echo > $OUTPUT_DIR/n_2; echo > $OUTPUT_DIR/other"
            """);
    assertEquals(1, warnings.size());
    assertEquals(4, warnings.get(0).line());
    assertEquals("step[1].inputs", warnings.get(0).field());
    assertTrue(warnings.get(0).message().startsWith("matches \"n_2\","), warnings.get(0).message());
  }

  @Test
  void oneDynamicScriptSilencesTheUnmatchedInputCheckForAll() throws Exception {
    assertEquals(
        List.of(),
        lint(
            """
            [[step]]
            name = "a"
            script = "echo > $OUTPUT_DIR/x_$RANDOM"
            [[step]]
            name = "b"
            inputs = ["never-written"]
            script = "echo > $OUTPUT_DIR/y"
            """));
  }

  @Test
  void selfConsumptionIsReportedEvenWhenOtherScriptsAreDynamic() throws Exception {
    List<Problem> warnings =
        lint(
            """
            [[step]]
            name = "a"
            script = "echo > $OUTPUT_DIR/x_$RANDOM"
            [[step]]
            name = "loop"
            inputs = ["x_*"]
            script = "echo > $OUTPUT_DIR/x_again"
            """);
    assertEquals(List.of("step[1].inputs"), warnings.stream().map(Problem::field).toList());
  }

  @Test
  void noStartStepIsAWarningWithoutAPlace() throws Exception {
    List<Problem> warnings =
        lint("[[step]]\nname = \"a\"\ninputs = [\"x\"]\nscript = \"cp $INPUT_FILE $OUTPUT_DIR\"\n");
    assertEquals(1, warnings.size());
    assertEquals(0, warnings.get(0).line());
    assertTrue(warnings.get(0).message().startsWith("no start step"));
  }

  private static List<Problem> lint(String text) throws ManifestException {
    return Lint.warnings(ManifestParser.parse("t.toml", text, "t"));
  }
}
