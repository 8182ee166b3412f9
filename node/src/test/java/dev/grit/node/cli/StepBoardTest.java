package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.TaskState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The terminal board of grit run: one line per step, redrawn in place; colours only if allowed. */
class StepBoardTest {
  @Test
  void oneLinePerStepRedrawnOverTheLastDrawing() {
    var board = new StepBoard(List.of("split", "count", "total"), false);
    var bytes = new ByteArrayOutputStream();
    var out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    board.draw(Map.of("split", Map.of(TaskState.ASSIGNED, 1)), out);
    board.draw(
        Map.of(
            "split", Map.of(TaskState.SUCCEEDED, 1),
            "count", Map.of(TaskState.SUCCEEDED, 2, TaskState.FAILED, 1, TaskState.PENDING, 1)),
        out);
    String text = bytes.toString(StandardCharsets.UTF_8);
    String[] drawings = text.split("\u001b\\[3F", -1);
    assertEquals(2, drawings.length, "the second drawing moves up over the three lines: " + text);
    assertEquals(
        "\u001b[2K  split [--------------------] 0/1 ✓0 ✗0 ▶1 …0\n"
            + "\u001b[2K  count [--------------------] 0/0 ✓0 ✗0 ▶0 …0\n"
            + "\u001b[2K  total [--------------------] 0/0 ✓0 ✗0 ▶0 …0\n",
        drawings[0]);
    assertEquals(
        "\u001b[2K  split [####################] 1/1 ✓1 ✗0 ▶0 …0\n"
            + "\u001b[2K  count [###############-----] 3/4 ✓2 ✗1 ▶0 …1\n"
            + "\u001b[2K  total [--------------------] 0/0 ✓0 ✗0 ▶0 …0\n",
        drawings[1]);
  }

  @Test
  void coloursOnlyWhenAllowed() {
    var plain = new StepBoard(List.of("a"), false).line("a", Map.of(TaskState.FAILED, 1));
    assertFalse(plain.contains("\u001b"), plain);
    var coloured = new StepBoard(List.of("a"), true).line("a", Map.of(TaskState.FAILED, 1));
    assertTrue(coloured.contains("\u001b[31m✗1\u001b[0m"), coloured);
    assertTrue(Terminal.colorAllowed(null, false));
    assertTrue(Terminal.colorAllowed("", false));
    assertFalse(Terminal.colorAllowed("1", false), "NO_COLOR set");
    assertFalse(Terminal.colorAllowed(null, true), "--no-color");
  }
}
