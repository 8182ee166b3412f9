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
   *       script's output names can be read off its text;
   *   <li>a gather step that consumes a fixed name a per-resource step writes: every task of that
   *       step publishes the same name, and equal bytes under one name are one resource, so two
   *       tasks that happen to write the same bytes reach the gather step as one input.
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
      if (step.gather()) {
        fixedNamesGathered(source, i, step, steps, scans, warnings);
      }
    }
    return warnings;
  }

  /**
   * What the manifest's gather steps do, one note per gather step, in words: a reader of {@code
   * grit lint} learns what {@code gather = true} means without the documentation at hand.
   */
  public static List<Problem> notes(Manifest manifest) {
    var notes = new ArrayList<Problem>();
    List<Step> steps = manifest.steps();
    for (int i = 0; i < steps.size(); i++) {
      Step step = steps.get(i);
      if (step.gather()) {
        notes.add(
            new Problem(
                manifest.source(),
                step.line(),
                0,
                "step[" + i + "].gather",
                "one task over every current resource matching "
                    + quoted(step.inputs())
                    + " at once ($INPUT_DIR holds them under their names, $INPUT_LIST lists"
                    + " name, sha256 and path), run once no other task of the run is pending or"
                    + " running (retries included) and none failed for good, after the gather"
                    + " steps listed before it; it runs again only when that set of resources"
                    + " changes"));
      }
    }
    return notes;
  }

  private static void fixedNamesGathered(
      String source,
      int index,
      Step gather,
      List<Step> steps,
      List<ScriptOutputs> scans,
      List<Problem> warnings) {
    for (int k = 0; k < steps.size(); k++) {
      Step producer = steps.get(k);
      if (producer.isStart() || producer.gather()) {
        continue; // one task per version: its fixed names are published once
      }
      var fixed = scans.get(k).literalNames().stream().filter(gather::consumes).toList();
      if (!fixed.isEmpty()) {
        warnings.add(
            new Problem(
                source,
                gather.line(),
                0,
                "step[" + index + "].inputs",
                "gathers "
                    + quoted(fixed)
                    + ", which step "
                    + Names.quote(producer.name())
                    + " writes under that one name for every resource it consumes: equal bytes"
                    + " under one name are one resource, so its tasks that write the same bytes"
                    + " reach this step as one input; name each output after its input, e.g."
                    + " $OUTPUT_DIR/"
                    + fixed.get(0)
                    + "/$GRIT_INPUT_NAME"));
      }
    }
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
