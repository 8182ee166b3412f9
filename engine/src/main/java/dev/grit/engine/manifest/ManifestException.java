package dev.grit.engine.manifest;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A manifest that cannot be used. It carries every problem found, not only the first, so an author
 * can fix them all in one go.
 */
public final class ManifestException extends Exception {
  private static final long serialVersionUID = 1L;

  private final List<Problem> problems;

  /** An exception for {@code problems}, which must not be empty. */
  public ManifestException(List<Problem> problems) {
    super(join(problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ManifestException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  public ManifestException(Problem problem) {
    this(List.of(problem));
  }

  /** The problems, in the order they occur in the manifest. */
  public List<Problem> problems() {
    return problems;
  }

  private static String join(List<Problem> problems) {
    return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
  }
}
