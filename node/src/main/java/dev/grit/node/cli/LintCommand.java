package dev.grit.node.cli;

import dev.grit.engine.manifest.Lint;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.Problem;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code grit lint}: validates a manifest offline. */
@Command(
    name = "lint",
    description =
        "Check a manifest without running it: errors exit 2, warnings are printed, and so is what"
            + " each gather step does.",
    mixinStandardHelpOptions = true)
final class LintCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MANIFEST")
  Path manifestFile;

  @Override
  public Integer call() {
    try {
      var manifest = ManifestParser.parse(manifestFile);
      for (Problem note : Lint.notes(manifest)) {
        System.out.println("note: " + note);
      }
      var warnings = Lint.warnings(manifest);
      for (Problem w : warnings) {
        System.err.println("warning: " + w);
      }
      System.out.printf(
          "%s: ok (%d steps%s)%n",
          manifestFile,
          manifest.steps().size(),
          warnings.isEmpty() ? "" : ", " + warnings.size() + " warnings");
      return Main.OK;
    } catch (ManifestException e) {
      System.err.println(e.getMessage());
      return Main.USAGE;
    }
  }
}
