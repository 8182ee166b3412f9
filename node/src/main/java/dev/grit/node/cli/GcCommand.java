package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code grit gc --older-than 30d}: retention, through the log, on every member. */
@Command(
    name = "gc",
    description = {
      "Forget runs that ended more than the given time ago: their attempts and logs, and the",
      "tasks, resources and objects nothing current needs; every member deletes those bytes.",
      "Running runs and the current resources of every pipeline are kept."
    },
    mixinStandardHelpOptions = true)
final class GcCommand implements Callable<Integer> {
  @Option(
      names = "--older-than",
      required = true,
      paramLabel = "AGE",
      description = "How long ago a run must have ended, e.g. 30d, 12h, 90m.")
  String olderThan;

  @Mixin ServerOption server;

  @Override
  public Integer call() throws Exception {
    ApiClient client = server.client();
    JsonNode r =
        ApiClient.check(
                client.post(
                    "/v1/gc?older_than=" + URLEncoder.encode(olderThan, StandardCharsets.UTF_8),
                    new byte[0],
                    Map.of()))
            .json();
    System.out.printf(
        "gc: runs ended before %s: %d runs, %d attempts, %d tasks, %d resources, %d objects"
            + " (%d chunks) removed%n",
        r.path("cutoff").asText(),
        r.path("runs").asInt(),
        r.path("attempts").asInt(),
        r.path("tasks").asInt(),
        r.path("resources").asInt(),
        r.path("objects").asInt(),
        r.path("chunks").asInt());
    return Main.OK;
  }
}
