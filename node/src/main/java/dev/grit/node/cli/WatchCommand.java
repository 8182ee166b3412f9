package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit watch RUN|@latest}: a run's progress until it ends. */
@Command(
    name = "watch",
    description = {
      "Print a run's progress until it ends (RUN is an id, or @latest for the newest run).",
      "With -o json or jsonl: each ended or lost attempt as a record (its event's JSON, the"
          + " event's type as \"event\"), then the run as it ended.",
      "Exit 0 when it succeeded, 1 when it did not or does not exist, 3 when no server answered."
    },
    mixinStandardHelpOptions = true)
final class WatchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "RUN|@latest")
  String run;

  @Mixin ServerOption server;

  @Mixin OutputOption output;

  @Override
  public Integer call() throws Exception {
    ApiClient client = server.client();
    long id = RunRef.resolve(client, run);
    if (output.structured()) {
      return RunWatcher.followAsRecords(client, id, output, true, System.out, System.err);
    }
    JsonNode end = new RunWatcher(client, System.out, true).follow(id);
    return RunWatcher.summarize(end, true, System.out, System.err);
  }
}
