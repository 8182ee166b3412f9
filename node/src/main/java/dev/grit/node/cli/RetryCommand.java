package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code grit retry RUN} / {@code grit retry --task ID}: runs a run's failed and cancelled tasks
 * (or one task) again, with fresh retry budgets; an ended run runs again until it settles.
 */
@Command(
    name = "retry",
    description = {
      "Run the failed and cancelled tasks of RUN again (or only --task ID); a run that ended runs"
          + " again until they settle. Only a pipeline's latest run can be retried.",
      "Exit 2 when the cluster refuses (a superseded run, a task that did not fail)."
    },
    mixinStandardHelpOptions = true)
final class RetryCommand implements Callable<Integer> {
  @ArgGroup(multiplicity = "1")
  Target target;

  static final class Target {
    @Parameters(index = "0", paramLabel = "RUN|@latest", description = "The run to retry.")
    String run;

    @Option(names = "--task", paramLabel = "ID", description = "Retry only this task (in its run).")
    Long task;
  }

  @Mixin ServerOption server;
  @Mixin OutputOption output;

  @Override
  public Integer call() throws Exception {
    ApiClient client = server.client();
    long runId;
    String path;
    if (target.task != null) {
      runId = client.getJson("/v1/tasks/" + target.task).path("run").asLong();
      path = "/v1/runs/" + runId + "/retry?task=" + target.task;
    } else {
      runId = RunRef.resolve(client, target.run);
      path = "/v1/runs/" + runId + "/retry";
    }
    JsonNode reply = ApiClient.check(client.post(path, new byte[0], Map.of())).json();
    if (output.structured()) {
      output.print(reply, System.out);
      return Main.OK;
    }
    int n = reply.path("retried").asInt();
    String state = reply.path("state").asText().toLowerCase(java.util.Locale.ROOT);
    System.out.println(
        n == 0
            ? "run " + runId + ": nothing to retry (" + state + ")"
            : "run " + runId + ": " + n + (n == 1 ? " task" : " tasks") + " retried, run " + state
                + " (grit watch " + runId + ")");
    return Main.OK;
  }
}
