package dev.grit.node.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** What a submission runs, shared by {@code grit run} and {@code grit submit}. */
final class RunFilters {
  @Option(
      names = {"--pipeline"},
      paramLabel = "NAME",
      description = "Pipeline name (default: the manifest's name, else its file name).")
  String pipeline;

  @Option(
      names = {"--start", "-start"},
      paramLabel = "STEP",
      description = "Run only from this step on.")
  String start;

  @Option(
      names = {"--step", "-step"},
      paramLabel = "STEP",
      description = "Run only these steps (repeatable).")
  List<String> steps = new ArrayList<>();
}
