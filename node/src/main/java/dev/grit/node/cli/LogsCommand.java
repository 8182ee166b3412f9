package dev.grit.node.cli;

import dev.grit.node.LogPrinter;
import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit logs TASK}: the stdout/stderr tail of each attempt of a task, from a server when one
 * is named (and {@code --db} is not), else from the local data directory.
 */
@Command(
    name = "logs",
    description = "Print the output (stdout and stderr, last 64 KiB) of each attempt of TASK.",
    mixinStandardHelpOptions = true)
final class LogsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "TASK")
  long taskId;

  @Mixin DbOption db;
  @Mixin ServerOption server;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (server.remote(spec)) {
      System.out.print(ApiClient.check(server.client().get("/v1/tasks/" + taskId + "/log")).text());
      System.out.flush();
      return Main.OK;
    }
    try (var queries = SqlState.openReadOnly(db.stateFile());
        var chunks = ChunkStore.openReadOnly(db.objects())) {
      if (queries.task(taskId).isEmpty()) {
        System.err.println("grit: no task " + taskId);
        return Main.FAILED;
      }
      new LogPrinter(() -> queries, chunks).printAll(taskId, System.out);
      return Main.OK;
    }
  }
}
