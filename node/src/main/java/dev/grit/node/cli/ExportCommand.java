package dev.grit.node.cli;

import dev.grit.consensus.state.SqlState;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code grit export NAME}: the resources of a name, newest first. */
@Command(
    name = "export",
    description = "List the resources named NAME: sha256<TAB>name<TAB>created_at, newest first.",
    mixinStandardHelpOptions = true)
final class ExportCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Mixin DbOption db;

  @Option(names = "--pipeline", paramLabel = "NAME", description = "Only this pipeline's resources.")
  String pipeline;

  @Override
  public Integer call() throws Exception {
    try (var queries = SqlState.openReadOnly(db.stateFile())) {
      var rows = queries.resourcesNamed(name, pipeline);
      if (rows.isEmpty()) {
        System.err.println("grit: no resources named " + name);
        return Main.FAILED;
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
}
