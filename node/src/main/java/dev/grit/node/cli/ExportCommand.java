package dev.grit.node.cli;

import dev.grit.consensus.state.SqlState;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit export NAME}: the resources of a name, newest first, from a server when one is named
 * (and {@code --db} is not), else from the local data directory.
 */
@Command(
    name = "export",
    description =
        "List the resources named NAME: sha256<TAB>name<TAB>created_at, newest first"
            + " (-o json|jsonl: the API's records).",
    mixinStandardHelpOptions = true)
final class ExportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Mixin DbOption db;

  @Option(names = "--pipeline", paramLabel = "NAME", description = "Only this pipeline's resources.")
  String pipeline;

  @Mixin ServerOption server;
  @Mixin OutputOption output;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (server.remote(spec)) {
      return remote();
    }
    try (var queries = SqlState.openReadOnly(db.stateFile())) {
      var rows = queries.resourcesNamed(name, pipeline);
      if (rows.isEmpty()) {
        System.err.println("grit: no resources named " + name);
        return Main.FAILED;
      }
      if (output.structured()) {
        var array = ApiClient.JSON.createArrayNode();
        for (var r : rows) {
          array
              .addObject()
              .put("hash", r.hash().toString())
              .put("name", r.name())
              .put("created_at", Instant.ofEpochMilli(r.createdAt()).toString());
        }
        output.print(array, System.out);
        return Main.OK;
      }
      var out = new StringBuilder();
      for (var r : rows) {
        out.append(r.hash())
            .append('\t')
            .append(r.name())
            .append('\t')
            .append(Instant.ofEpochMilli(r.createdAt()))
            .append('\n');
      }
      System.out.print(out);
      System.out.flush();
      return Main.OK;
    }
  }

  private int remote() throws ClientException {
    String path = "/v1/resources?name=" + SubmitCommand.encode(name);
    if (pipeline != null) {
      path += "&pipeline=" + SubmitCommand.encode(pipeline);
    }
    var rows = server.client().getJson(path);
    if (rows.isEmpty()) {
      System.err.println("grit: no resources named " + name);
      return Main.FAILED;
    }
    if (output.structured()) {
      output.print(rows, System.out);
      return Main.OK;
    }
    var out = new StringBuilder();
    for (var r : rows) {
      out.append(r.path("hash").asText())
          .append('\t')
          .append(r.path("name").asText())
          .append('\t')
          .append(r.path("created_at").asText())
          .append('\n');
    }
    System.out.print(out);
    System.out.flush();
    return Main.OK;
  }
}
