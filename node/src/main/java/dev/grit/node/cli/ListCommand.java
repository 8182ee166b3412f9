package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code grit list}: the newest runs. */
@Command(name = "list", description = "List the newest runs.", mixinStandardHelpOptions = true)
final class ListCommand implements Callable<Integer> {
  @Mixin ServerOption server;
  @Mixin OutputOption output;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "20",
      description = "At most N runs (default: ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() throws Exception {
    JsonNode runs = server.client().getJson("/v1/runs?limit=" + limit);
    if (output.structured()) {
      output.print(runs, System.out);
      return Main.OK;
    }
    var table = new Table("RUN", "PIPELINE", "STATE", "TASKS", "SUBMITTED", "FINISHED");
    for (JsonNode r : runs) {
      table.row(
          r.path("id").asLong(),
          r.path("pipeline").asText(),
          r.path("state").asText(),
          GetCommand.counts(r.path("tasks")),
          GetCommand.text(r.path("submitted_at")),
          GetCommand.text(r.path("finished_at")));
    }
    table.print(System.out);
    return Main.OK;
  }
}
