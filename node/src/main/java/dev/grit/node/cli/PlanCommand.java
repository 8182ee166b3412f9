package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.Problem;
import dev.grit.node.SubmissionPlan;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit plan MANIFEST}: what submitting it would do and why, against the record of a server
 * (when one is named and {@code --db} is not) or of the local data directory. Proposes nothing.
 */
@Command(
    name = "plan",
    description = {
      "Show what submitting MANIFEST would do, without doing it: new step versions (and what",
      "changed), the tasks each step gets at once, and why a step gets none.",
      "Exit 0, or 2 for an invalid manifest."
    },
    mixinStandardHelpOptions = true)
final class PlanCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MANIFEST", description = "The pipeline's TOML manifest.")
  java.nio.file.Path manifestFile;

  @Mixin DbOption db;
  @Mixin ServerOption server;
  @Mixin RunFilters filters;
  @Mixin OutputOption output;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    JsonNode plan;
    if (server.remote(spec)) {
      plan = remote();
      if (plan == null) {
        return Main.USAGE;
      }
    } else {
      Manifest manifest;
      try {
        manifest = ManifestParser.parse(manifestFile);
      } catch (ManifestException e) {
        System.err.println(e.getMessage());
        return Main.USAGE;
      }
      String unknown = unknownFilter(manifest);
      if (unknown != null) {
        System.err.println("grit: " + unknown);
        return Main.USAGE;
      }
      String name = filters.pipeline != null ? filters.pipeline : manifest.name();
      if (Files.exists(db.stateFile())) {
        try (var queries = SqlState.openReadOnly(db.stateFile())) {
          plan = SubmissionPlan.of(queries, manifest, name, filters.start, filters.steps);
        }
      } else {
        plan = SubmissionPlan.ofNewRecord(manifest, name, filters.start, filters.steps);
      }
    }
    if (output.structured()) {
      output.print(plan, System.out);
    } else {
      print(plan, System.out);
    }
    return Main.OK;
  }

  private JsonNode remote() throws ClientException {
    byte[] text;
    try {
      text = Files.readAllBytes(manifestFile);
    } catch (IOException e) {
      throw new ClientException(
          Main.USAGE, "cannot read manifest " + manifestFile + ": " + e.getMessage());
    }
    var q = new StringBuilder("/v1/plan?source=").append(SubmitCommand.encode(manifestFile.toString()));
    if (filters.pipeline != null) {
      q.append("&pipeline=").append(SubmitCommand.encode(filters.pipeline));
    }
    if (filters.start != null) {
      q.append("&start=").append(SubmitCommand.encode(filters.start));
    }
    for (String s : filters.steps) {
      q.append("&step=").append(SubmitCommand.encode(s));
    }
    ApiClient.Response r =
        server.client().post(q.toString(), text, Map.of("Content-Type", "application/toml"));
    if (r.status() == 400 && r.json().path("error").asText().equals("invalid manifest")) {
      for (JsonNode p : r.json().path("detail")) {
        System.err.println(
            new Problem(
                p.path("file").asText(),
                p.path("line").asInt(),
                p.path("column").asInt(),
                p.path("field").asText(),
                p.path("message").asText()));
      }
      return null;
    }
    return ApiClient.check(r).json();
  }

  private String unknownFilter(Manifest manifest) {
    if (filters.start != null && manifest.step(filters.start).isEmpty()) {
      return "--start " + filters.start + ": no such step in " + manifestFile;
    }
    for (String s : filters.steps) {
      if (manifest.step(s).isEmpty()) {
        return "--step " + s + ": no such step in " + manifestFile;
      }
    }
    return null;
  }

  /** A table of the steps, then the totals; nothing is proposed. */
  static void print(JsonNode plan, PrintStream out) {
    var table = new Table("STEP", "VERSION", "CHANGE", "TASKS", "WHY");
    for (JsonNode s : plan.path("steps")) {
      String change = s.path("change").asText().replace('_', ' ');
      if (!s.path("changed").isEmpty()) {
        var fields = new StringBuilder();
        s.path("changed").forEach(f -> fields.append(fields.length() == 0 ? "" : ",").append(f.asText()));
        change += " (" + fields + ")";
      }
      int created = s.path("tasks_created").asInt();
      int retried = s.path("tasks_retried").asInt();
      table.row(
          s.path("step").asText(),
          "v" + s.path("version").asInt(),
          change,
          retried > 0 ? created + " + " + retried + " retried" : String.valueOf(created),
          s.path("why").asText());
    }
    table.print(out);
    int created = plan.path("tasks_created").asInt();
    int retried = plan.path("tasks_retried").asInt();
    out.printf(
        Locale.ROOT,
        "pipeline %s: %d %s at submission%s; nothing was submitted%n",
        plan.path("pipeline").asText(),
        created,
        created == 1 ? "task" : "tasks",
        retried > 0 ? " and " + retried + " retried" : "");
  }
}
