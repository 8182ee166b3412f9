package dev.grit.engine.execute;

import dev.grit.engine.object.Digest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What one attempt runs: {@code sh -c script} with {@code OUTPUT_DIR}, {@code INPUT_FILE} and the
 * {@code GRIT_*} variables set.
 *
 * @param inputFile a read-only local file with the input resource's bytes; null for a start step
 * @param inputName the input resource's name; null for a start step
 * @param inputHash the input resource's digest; null for a start step
 * @param gathered a gather task's {@code $INPUT_DIR} and {@code $INPUT_LIST}; null for any other
 * @param timeout the longest the script may run before its whole process group is killed, or
 *     {@link Duration#ZERO} for no limit
 * @param env extra variables from the manifest; they cannot override the grit ones
 */
public record AttemptSpec(
    long taskId,
    int attempt,
    String stepName,
    String script,
    Path inputFile,
    String inputName,
    Digest inputHash,
    GatheredInputs gathered,
    Duration timeout,
    Map<String, String> env) {

  public AttemptSpec {
    env = Map.copyOf(env);
  }

  /** An attempt of a task with one input (or none): not of a gather task. */
  public AttemptSpec(
      long taskId,
      int attempt,
      String stepName,
      String script,
      Path inputFile,
      String inputName,
      Digest inputHash,
      Duration timeout,
      Map<String, String> env) {
    this(taskId, attempt, stepName, script, inputFile, inputName, inputHash, null, timeout, env);
  }

  /** A key unique to this attempt on this node, safe as a file name. */
  public String key() {
    return taskId + "-" + attempt;
  }
}
