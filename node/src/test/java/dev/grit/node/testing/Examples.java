package dev.grit.node.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The manifests under the repository's {@code examples/}, for tests that run them. */
public final class Examples {
  private Examples() {}

  /** The examples directory sits at the root of the source tree, above this module. */
  public static Path path(String file) {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      Path candidate = d.resolve("examples").resolve(file);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError("no examples/" + file + " above " + Path.of("").toAbsolutePath());
  }
}
