package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.engine.manifest.Problem;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code grit submit MANIFEST}: hands a manifest to a cluster and prints the run id. */
@Command(
    name = "submit",
    description = {
      "Submit a manifest to a grit cluster and print the run id.",
      "With --watch, print the run's progress until it ends; with --wait, just wait.",
      "With -o json or jsonl: the submission as a record; then, with --watch, each ended or lost",
      "attempt as grit watch -o prints it; then, with --wait or --watch, the run as it ended.",
      "Exit 0 when submitted (or, waiting, when the run succeeded), 1 when the run failed,",
      "2 for an invalid manifest, 3 when no server answered."
    },
    mixinStandardHelpOptions = true)
final class SubmitCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MANIFEST", description = "The pipeline's TOML manifest.")
  Path manifestFile;

  @Mixin ServerOption server;

  @Mixin RunFilters filters;

  @Mixin OutputOption output;

  @Option(
      names = {"--parallel", "-parallel"},
      paramLabel = "N",
      description = "At most N of the run's tasks at once (default: no limit).")
  Integer parallel;

  @Option(names = "--watch", description = "Print the run's progress until it ends.")
  boolean watch;

  @Option(names = "--wait", description = "Wait for the run to end; exit 1 if it failed.")
  boolean await;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    PrintStream err = System.err;
    byte[] text;
    try {
      text = Files.readAllBytes(manifestFile);
    } catch (NoSuchFileException e) {
      throw new ClientException(
          Main.USAGE, "cannot read manifest " + manifestFile + ": no such file");
    } catch (IOException e) {
      throw new ClientException(
          Main.USAGE, "cannot read manifest " + manifestFile + ": " + e.getMessage());
    }
    ApiClient client = server.client();
    // One id for every server tried: a retry elsewhere resolves to the same run.
    String requestId = UUID.randomUUID().toString();
    ApiClient.Response r =
        client.post(
            query(), text, Map.of("Content-Type", "application/toml", "Request-Id", requestId));
    if (r.status() == 400 && r.json().path("error").asText().equals("invalid manifest")) {
      for (JsonNode p : r.json().path("detail")) {
        err.println(
            new Problem(
                p.path("file").asText(),
                p.path("line").asInt(),
                p.path("column").asInt(),
                p.path("field").asText(),
                p.path("message").asText()));
      }
      return Main.USAGE;
    }
    JsonNode submitted = ApiClient.check(r).json();
    for (JsonNode w : submitted.path("warnings")) {
      err.println("warning: " + w.asText());
    }
    long run = submitted.path("run").asLong();
    if (output.structured()) {
      output.printRecord(submitted, out);
      if (!watch && !await) {
        return Main.OK;
      }
      return RunWatcher.followAsRecords(client, run, output, watch, out, err);
    }
    if (!watch) {
      out.println(run);
      out.flush();
    }
    if (!watch && !await) {
      return Main.OK;
    }
    if (watch) {
      out.printf("grit: pipeline %s, run %d%n", submitted.path("pipeline").asText(), run);
    }
    JsonNode end = new RunWatcher(client, out, watch).follow(run);
    return RunWatcher.summarize(end, watch, out, err);
  }

  private String query() {
    var q = new StringBuilder("/v1/runs?source=").append(encode(manifestFile.toString()));
    if (filters.pipeline != null) {
      q.append("&pipeline=").append(encode(filters.pipeline));
    }
    if (filters.start != null) {
      q.append("&start=").append(encode(filters.start));
    }
    for (String s : filters.steps) {
      q.append("&step=").append(encode(s));
    }
    if (parallel != null) {
      q.append("&parallel=").append(parallel);
    }
    return q.toString();
  }

  static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
