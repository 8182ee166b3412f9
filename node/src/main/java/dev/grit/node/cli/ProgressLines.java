package dev.grit.node.cli;

import java.util.List;

/**
 * The wording of run progress, shared by the embedded {@code grit run} (from local events) and the
 * client commands (from the API's event stream), so both print the same lines.
 */
final class ProgressLines {
  private ProgressLines() {}

  /**
   * One ended attempt: {@code ✓ step #task (input) 12ms → outputs}, or {@code ✗ ...} with the error
   * and whether the task will be retried.
   */
  static String ended(
      String step,
      long taskId,
      String inputName,
      boolean succeeded,
      boolean willRetry,
      int attempt,
      String error,
      long durationMillis,
      List<String> outputs) {
    String input = inputName == null ? "" : " (" + inputName + ")";
    if (succeeded) {
      return String.format(
          "  ✓ %s #%d%s %s%s",
          step,
          taskId,
          input,
          millis(durationMillis),
          outputs.isEmpty() ? "" : " → " + String.join(", ", abbreviate(outputs)));
    }
    return String.format(
        "  ✗ %s #%d%s attempt %d: %s; %s",
        step, taskId, input, attempt, error, willRetry ? "will retry" : "failed");
  }

  static String lost(long taskId, int attempt, String reason) {
    return String.format("  ! task %d attempt %d lost: %s; retrying", taskId, attempt, reason);
  }

  /** The closing line of a run: {@code run 4 succeeded: 3 tasks succeeded, 0 failed, in 1.20s}. */
  static String summary(long runId, String state, int succeeded, int failed, long elapsedMillis) {
    return String.format(
        "run %d %s: %d tasks succeeded, %d failed, in %s",
        runId, state.toLowerCase(java.util.Locale.ROOT), succeeded, failed, millis(elapsedMillis));
  }

  /** One failed task, with where to read its output. */
  static String failedTask(String step, long taskId, String inputName, int attempts, String error) {
    return String.format(
        "failed: %s #%d%s after %d attempts: %s (grit logs %d)",
        step, taskId, inputName == null ? "" : " (" + inputName + ")", attempts, error, taskId);
  }

  static String millis(long ms) {
    return ms < 1000 ? ms + "ms" : String.format("%.2fs", ms / 1000.0);
  }

  private static List<String> abbreviate(List<String> names) {
    if (names.size() <= 5) {
      return names;
    }
    return List.of(names.get(0), names.get(1), names.get(2), "… " + (names.size() - 3) + " more");
  }
}
