package dev.grit.engine.manifest;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Warnings about a valid manifest: things that are allowed but usually mistakes. A warning never
 * stops a run.
 *
 * <p>What a script writes is known only when it runs, so the checks that depend on it read the
 * scripts' text (see {@link ScriptOutputs}) and stay quiet whenever the text leaves room for doubt;
 * a false alarm would teach authors to ignore the linter.
 */
public final class Lint {
  private Lint() {}

  /**
   * The warnings for {@code manifest}, in step order:
   *
   * <ul>
   *   <li>no start step: nothing runs unless the pipeline already holds resources;
   *   <li>a step whose inputs match a name its own script writes literally: it consumes its own
   *       outputs and runs again for each new one, until an output repeats;
   *   <li>an input pattern that no script writes a matching name for, checked only when every
   *       script's output names can be read off its text.
   * </ul>
   */
  public static List<Problem> warnings(Manifest manifest) {
    var warnings = new ArrayList<Problem>();
    String source = manifest.source();
    List<Step> steps = manifest.steps();
    if (steps.stream().noneMatch(Step::isStart)) {
      warnings.add(
          new Problem(
              source,
              0,
              0,
              "",
              "no start step (a step without inputs): nothing will run unless the pipeline"
                  + " already holds matching resources"));
    }
    var scans = steps.stream().map(s -> ScriptOutputs.scan(s.script())).toList();
    boolean allLiteral = scans.stream().noneMatch(ScriptOutputs::dynamic);
    var everyName = new TreeSet<String>();
    scans.forEach(scan -> everyName.addAll(scan.literalNames()));
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      selfConsuming(source, i, step, scans.get(i).literalNames(), warnings);
      if (allLiteral) {
        unmatchedInputs(source, i, step, everyName, warnings);
      }
    }
    return warnings;
  }

  private static void selfConsuming(
      String source, int index, Step step, Set<String> ownNames, List<Problem> warnings) {
    var consumed = ownNames.stream().filter(step::consumes).toList();
    if (!consumed.isEmpty()) {
      warnings.add(
          new Problem(
              source,
              step.line(),
              0,
              "step[" + index + "].inputs",
              "matches "
                  + quoted(consumed)
                  + ", which this step's own script writes: the step consumes its own outputs"
                  + " and runs again on each new one until an output repeats"));
    }
  }

  private static void unmatchedInputs(
      String source, int index, Step step, Set<String> names, List<Problem> warnings) {
    List<String> inputs = step.inputs();
    for (int j = 0; j < inputs.size(); j++) {
      String pattern = inputs.get(j);
      if (names.stream().noneMatch(n -> NamePattern.matches(pattern, n))) {
        warnings.add(
            new Problem(
                source,
                step.line(),
                0,
                "step[" + index + "].inputs[" + j + "]",
                "no step writes a resource matching "
                    + Names.quote(pattern)
                    + " (scripts write: "
                    + (names.isEmpty() ? "nothing" : quoted(names))
                    + "); the step will only run on resources already in the pipeline"));
      }
    }
  }

  private static String quoted(java.util.Collection<String> names) {
    return String.join(", ", names.stream().map(Names::quote).toList());
  }
}
