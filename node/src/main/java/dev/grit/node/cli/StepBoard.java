package dev.grit.node.cli;

import dev.grit.consensus.state.TaskState;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/**
 * The live per-step display of {@code grit run} on a terminal: one line per step, redrawn in
 * place: {@code step  [#####-----]  5/10  ✓5 ✗0 ▶2 …3}. Off a terminal, {@link Progress} prints
 * one line per change instead.
 */
final class StepBoard {
  private static final int BAR = 20;
  private static final String GREEN = "\u001b[32m";
  private static final String RED = "\u001b[31m";
  private static final String YELLOW = "\u001b[33m";
  private static final String RESET = "\u001b[0m";

  private final List<String> steps;
  private final boolean color;
  private final int width;
  private int drawn;

  StepBoard(List<String> steps, boolean color) {
    this.steps = steps;
    this.color = color;
    this.width = steps.stream().mapToInt(String::length).max().orElse(4);
  }

  /** Draws the board, over the one drawn before. */
  void draw(Map<String, Map<TaskState, Integer>> counts, PrintStream out) {
    var text = new StringBuilder();
    if (drawn > 0) {
      text.append("\u001b[").append(drawn).append('F'); // to the start of the board's first line
    }
    for (String step : steps) {
      text.append("\u001b[2K").append(line(step, counts.getOrDefault(step, Map.of()))).append('\n');
    }
    drawn = steps.size();
    out.print(text);
    out.flush();
  }

  /** One step's line. */
  String line(String step, Map<TaskState, Integer> c) {
    int ok = c.getOrDefault(TaskState.SUCCEEDED, 0);
    int failed = c.getOrDefault(TaskState.FAILED, 0);
    int cancelled = c.getOrDefault(TaskState.CANCELLED, 0);
    int running = c.getOrDefault(TaskState.ASSIGNED, 0);
    int pending = c.getOrDefault(TaskState.PENDING, 0);
    int total = ok + failed + cancelled + running + pending;
    int done = ok + failed + cancelled;
    int filled = total == 0 ? 0 : done * BAR / total;
    String bar = "#".repeat(filled) + "-".repeat(BAR - filled);
    var s = new StringBuilder();
    s.append(String.format("  %-" + width + "s [%s] %d/%d ", step, bar, done, total));
    s.append(paint(GREEN, "✓" + ok));
    s.append(' ').append(paint(failed > 0 ? RED : "", "✗" + failed));
    if (cancelled > 0) {
      s.append(" cancelled ").append(cancelled);
    }
    s.append(' ').append(paint(running > 0 ? YELLOW : "", "▶" + running));
    s.append(" …").append(pending);
    return s.toString();
  }

  private String paint(String colour, String text) {
    return color && !colour.isEmpty() ? colour + text + RESET : text;
  }
}
