package dev.grit.engine.manifest;

import dev.grit.engine.object.Digest;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One {@code [[step]]} of a manifest.
 *
 * @param inputs resource-name patterns ({@code *} and {@code ?} globs); empty for a start step
 * @param gather true for a gather (fan-in) step: one task over the whole set of live resources its
 *     inputs match, decided once nothing that could still add to the set is pending or running,
 *     instead of one task per resource
 * @param parallel the most tasks of this step running at once; {@link #UNLIMITED} when not set
 * @param retries how many times a failing attempt is retried (0: fail at once)
 * @param retryBackoff the delay before the first retry; doubled for each further one
 * @param timeout the longest an attempt may run, or {@link Duration#ZERO} for no limit
 * @param env extra environment variables for the script
 * @param priority higher runs first among pending tasks
 * @param line the manifest line of the step's table, for messages
 */
public record Step(
    String name,
    String script,
    List<String> inputs,
    boolean gather,
    int parallel,
    int retries,
    Duration retryBackoff,
    Duration timeout,
    Map<String, String> env,
    int priority,
    int line) {

  public static final int UNLIMITED = Integer.MAX_VALUE;
  public static final Duration DEFAULT_RETRY_BACKOFF = Duration.ofSeconds(1);

  public Step {
    inputs = List.copyOf(inputs);
    env = Map.copyOf(env);
  }

  /** A step that consumes one resource per task (or none, a start step): not a gather step. */
  public Step(
      String name,
      String script,
      List<String> inputs,
      int parallel,
      int retries,
      Duration retryBackoff,
      Duration timeout,
      Map<String, String> env,
      int priority,
      int line) {
    this(
        name, script, inputs, false, parallel, retries, retryBackoff, timeout, env, priority,
        line);
  }

  public boolean isStart() {
    return inputs.isEmpty();
  }

  /** True when {@code resourceName} matches one of this step's input patterns. */
  public boolean consumes(String resourceName) {
    for (String pattern : inputs) {
      if (NamePattern.matches(pattern, resourceName)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The identity of this step's version: a hash of what changes its outputs (script, inputs,
   * env, gathering). Operational options (parallel, retries, timeout, priority) are not part of it,
   * so changing them does not rerun anything. A gather step's hash has a mark appended, so the
   * hashes of every step that does not gather are what they were before gather steps existed.
   */
  public Digest versionHash() {
    var bytes = new ByteArrayOutputStream();
    try (var out = new DataOutputStream(bytes)) {
      out.writeUTF("grit-step-v1");
      writeString(out, script);
      out.writeInt(inputs.size());
      for (String input : inputs) {
        writeString(out, input);
      }
      var sortedEnv = new TreeMap<>(env);
      out.writeInt(sortedEnv.size());
      for (var e : sortedEnv.entrySet()) {
        writeString(out, e.getKey());
        writeString(out, e.getValue());
      }
      if (gather) {
        out.writeUTF("gather");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Digest.of(bytes.toByteArray());
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }
}
