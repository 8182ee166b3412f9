package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit get RUN}: one run's state, task counts and failed tasks. */
@Command(
    name = "get",
    description =
        "Show a run: state, times, tasks by state, failed tasks. Exit 1 if there is none.",
    mixinStandardHelpOptions = true)
final class GetCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "RUN|@latest")
  String run;

  @Mixin ServerOption server;
  @Mixin OutputOption output;

  @Override
  public Integer call() throws Exception {
    ApiClient client = server.client();
    JsonNode view = client.getJson("/v1/runs/" + RunRef.resolve(client, run));
    PrintStream out = System.out;
    if (output.json()) {
      OutputOption.printJson(view, out);
      return Main.OK;
    }
    var table =
        new Table("RUN", String.valueOf(view.path("id").asLong()))
            .row("PIPELINE", view.path("pipeline").asText())
            .row("STATE", view.path("state").asText())
            .row("SOURCE", text(view.path("source")))
            .row("SUBMITTED", text(view.path("submitted_at")))
            .row("FINISHED", text(view.path("finished_at")))
            .row("TASKS", counts(view.path("tasks")));
    if (view.path("reason").isTextual()) {
      table.row("REASON", view.path("reason").asText());
    }
    table.print(out);
    if (!view.path("failed").isEmpty()) {
      out.println();
      var failed = new Table("FAILED TASK", "STEP", "INPUT", "ATTEMPTS", "ERROR");
      for (JsonNode t : view.path("failed")) {
        failed.row(
            t.path("task").asLong(),
            t.path("step").asText(),
            text(t.path("input_name")),
            t.path("attempts").asInt(),
            text(t.path("error")));
      }
      failed.print(out);
    }
    return Main.OK;
  }

  static String text(JsonNode value) {
    return value.isTextual() ? value.asText() : null;
  }

  /** "3 succeeded, 1 failed": the states that have tasks, or "none". */
  static String counts(JsonNode tasks) {
    var sb = new StringBuilder();
    for (Map.Entry<String, JsonNode> e : tasks.properties()) {
      if (e.getValue().asInt() > 0) {
        sb.append(sb.length() == 0 ? "" : ", ")
            .append(e.getValue().asInt())
            .append(' ')
            .append(e.getKey());
      }
    }
    return sb.length() == 0 ? "none" : sb.toString();
  }
}
