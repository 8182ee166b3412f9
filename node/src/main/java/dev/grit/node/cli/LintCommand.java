package dev.grit.node.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.engine.manifest.Lint;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.Problem;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit lint}: validates a manifest offline. */
@Command(
    name = "lint",
    description = {
      "Check a manifest without running it: errors exit 2, warnings are printed, and so is what"
          + " each gather step does.",
      "With -o json or jsonl: one record of the manifest, its steps and its problems, each"
          + " problem located as the API locates them (file, line, column, field, message)."
    },
    mixinStandardHelpOptions = true)
final class LintCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MANIFEST")
  Path manifestFile;

  @Mixin OutputOption output;

  @Override
  public Integer call() {
    if (output.structured()) {
      return callStructured();
    }
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

  private Integer callStructured() {
    ObjectNode record = ApiClient.JSON.createObjectNode().put("manifest", manifestFile.toString());
    List<Problem> errors = List.of();
    List<Problem> warnings = List.of();
    List<Problem> notes = List.of();
    try {
      var manifest = ManifestParser.parse(manifestFile);
      record.put("steps", manifest.steps().size());
      warnings = Lint.warnings(manifest);
      notes = Lint.notes(manifest);
    } catch (ManifestException e) {
      errors = e.problems();
    }
    record.put("ok", errors.isEmpty());
    record.set("errors", problems(errors));
    record.set("warnings", problems(warnings));
    record.set("notes", problems(notes));
    output.print(record, System.out);
    return errors.isEmpty() ? Main.OK : Main.USAGE;
  }

  /** Problems as the API reports an invalid manifest's. */
  private static ArrayNode problems(List<Problem> problems) {
    return ApiClient.JSON.valueToTree(problems.stream().map(Problem::fields).toList());
  }
}
