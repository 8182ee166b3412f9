package dev.grit.engine.manifest;

import java.util.List;
import java.util.Optional;

/**
 * A parsed manifest.
 *
 * @param name the pipeline name: the manifest's {@code name}, or its file name without extension
 * @param source where it was read from (a path or a label), for messages
 * @param text the manifest text as submitted, kept with the run
 */
public record Manifest(String name, String source, String text, List<Step> steps) {
  public Manifest {
    steps = List.copyOf(steps);
  }

  public Optional<Step> step(String stepName) {
    return steps.stream().filter(s -> s.name().equals(stepName)).findFirst();
  }
}
