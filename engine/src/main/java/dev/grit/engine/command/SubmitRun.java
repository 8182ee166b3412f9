package dev.grit.engine.command;

import dev.grit.engine.manifest.Step;
import java.util.List;

/**
 * Submits a manifest to a pipeline: registers its step versions, creates the run and the tasks
 * it implies. The same {@code requestId} twice makes one run.
 *
 * @param manifestText the manifest as written, kept with the run
 * @param steps the manifest's steps, parsed by the proposer (apply never parses TOML)
 * @param startStep with {@code -start}: only this step is planned at submission; null for all
 * @param onlySteps with {@code -step}: only these steps run; empty for all
 * @param maxParallel with {@code -parallel}: at most this many of the run's tasks at once; 0 for
 *     no limit
 */
public record SubmitRun(
    String requestId,
    String pipeline,
    String source,
    String manifestText,
    List<Step> steps,
    long submittedAt,
    String startStep,
    List<String> onlySteps,
    int maxParallel)
    implements Command {

  public SubmitRun {
    steps = List.copyOf(steps);
    onlySteps = List.copyOf(onlySteps);
  }

  /** The names of the manifest's gather steps, in manifest order. */
  public List<String> gatherSteps() {
    return steps.stream().filter(Step::gather).map(Step::name).toList();
  }

  /** The lowest rules version that applies this submission as it is meant. */
  public int rulesNeeded() {
    return gatherSteps().isEmpty() ? RulesVersion.INITIAL : RulesVersion.GATHER;
  }

  /** Why a record that follows {@code rules} cannot take this submission, or null when it can. */
  public String whyRulesTooOld(int rules) {
    if (rulesNeeded() <= rules) {
      return null;
    }
    return "the manifest has gather steps ("
        + String.join(", ", gatherSteps())
        + "), which need rules version "
        + rulesNeeded()
        + ", and the cluster still follows rules version "
        + rules;
  }
}
