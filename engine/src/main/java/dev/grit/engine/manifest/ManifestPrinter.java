package dev.grit.engine.manifest;

import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A canonical, human-readable rendering of a parsed manifest: every field of every step spelt out
 * with its effective value, defaults included, in a fixed order. Two manifests that parse to the
 * same steps render identically however they were written (inline tables or sub-tables, integer or
 * string durations, key order), which makes the rendering fit for golden tests, {@code grit lint}
 * output and diffs between versions.
 *
 * <p>The layout:
 *
 * <pre>
 * pipeline: NAME
 * source: SOURCE
 * steps: N
 *
 * step[I] NAME (line L)
 *   inputs: ["PATTERN", ...]        or  [] (start step)
 *   gather: true                     only for a gather step
 *   script:
 *     | LINE                         one per script line; "\ no newline at end" when it lacks one
 *   parallel: N                      or  unlimited
 *   retries: N
 *   retry_backoff: DURATION
 *   timeout: DURATION                or  none
 *   env: {}                          or  one "    KEY = "VALUE"" line per variable, sorted
 *   priority: N
 *   version: SHA256                  the step's version hash
 * </pre>
 */
public final class ManifestPrinter {
  private ManifestPrinter() {}

  public static String print(Manifest manifest) {
    var out = new StringBuilder();
    out.append("pipeline: ").append(manifest.name()).append('\n');
    out.append("source: ").append(manifest.source()).append('\n');
    out.append("steps: ").append(manifest.steps().size()).append('\n');
    List<Step> steps = manifest.steps();
    for (int i = 0; i < steps.size(); i++) {
      out.append('\n');
      printStep(out, i, steps.get(i));
    }
    return out.toString();
  }

  /** One step in the layout described on the class, without the blank line before it. */
  public static String print(int index, Step step) {
    var out = new StringBuilder();
    printStep(out, index, step);
    return out.toString();
  }

  private static void printStep(StringBuilder out, int index, Step step) {
    out.append("step[").append(index).append("] ").append(step.name());
    out.append(" (line ").append(step.line()).append(")\n");
    out.append("  inputs: ").append(inputs(step.inputs())).append('\n');
    if (step.gather()) {
      out.append("  gather: true\n");
    }
    out.append("  script:\n");
    script(out, step.script());
    out.append("  parallel: ")
        .append(step.parallel() == Step.UNLIMITED ? "unlimited" : step.parallel())
        .append('\n');
    out.append("  retries: ").append(step.retries()).append('\n');
    out.append("  retry_backoff: ").append(Durations.format(step.retryBackoff())).append('\n');
    out.append("  timeout: ").append(timeout(step.timeout())).append('\n');
    env(out, step);
    out.append("  priority: ").append(step.priority()).append('\n');
    out.append("  version: ").append(step.versionHash()).append('\n');
  }

  private static String inputs(List<String> inputs) {
    if (inputs.isEmpty()) {
      return "[] (start step)";
    }
    return inputs.stream().map(Names::quote).collect(Collectors.joining(", ", "[", "]"));
  }

  private static void script(StringBuilder out, String script) {
    String[] lines = script.split("\n", -1);
    boolean endsWithNewline = script.endsWith("\n");
    int count = endsWithNewline ? lines.length - 1 : lines.length;
    for (int i = 0; i < count; i++) {
      // No space after an empty line's bar, so the rendering has no trailing whitespace.
      out.append(lines[i].isEmpty() ? "    |" : "    | " + lines[i]).append('\n');
    }
    if (!endsWithNewline) {
      out.append("    \\ no newline at end\n");
    }
  }

  private static String timeout(Duration timeout) {
    return timeout.isZero() ? "none" : Durations.format(timeout);
  }

  private static void env(StringBuilder out, Step step) {
    if (step.env().isEmpty()) {
      out.append("  env: {}\n");
      return;
    }
    out.append("  env:\n");
    for (var e : new TreeMap<>(step.env()).entrySet()) {
      out.append("    ").append(e.getKey()).append(" = ").append(Names.quote(e.getValue()));
      out.append('\n');
    }
  }
}
