package dev.grit.node.cli;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit logs TASK}: the stdout/stderr tail of each attempt of a task. */
@Command(
    name = "logs",
    description = "Print the output (stdout and stderr, last 64 KiB) of each attempt of TASK.",
    mixinStandardHelpOptions = true)
final class LogsCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "TASK")
  long taskId;

  @Mixin DbOption db;

  @Override
  public Integer call() throws Exception {
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
