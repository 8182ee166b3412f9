package dev.grit.node.cli;

import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit cancel RUN}: stops a run; its running scripts are killed. */
@Command(
    name = "cancel",
    description = {
      "Cancel a run: its pending tasks are dropped and its running scripts killed.",
      "Exit 1 when there is no such run or it already ended."
    },
    mixinStandardHelpOptions = true)
final class CancelCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "RUN|@latest")
  String run;

  @Mixin ServerOption server;
  @Mixin OutputOption output;

  @Override
  public Integer call() throws Exception {
    ApiClient client = server.client();
    long id = RunRef.resolve(client, run);
    var reply = ApiClient.check(client.post("/v1/runs/" + id + "/cancel", new byte[0], Map.of()));
    if (output.structured()) {
      output.print(reply.json(), System.out);
    } else {
      System.out.println("run " + id + " cancelled");
    }
    return Main.OK;
  }
}
