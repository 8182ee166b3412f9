package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Ports;
import dev.grit.node.api.TestServer;
import dev.grit.node.testing.Grit.Result;
import dev.grit.node.testing.Grit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client commands, run as a user runs them (a child JVM) against a real node's API in this
 * process: results, output formats and exit codes.
 */
class ClientCommandsTest {
  @TempDir static Path dir;
  static TestServer server;
  static Grit grit;

  static final String WORKFLOW =
      """
      [[step]]
      name = "start"
      script = '''
      echo "Input data" > $OUTPUT_DIR/dataset-v1
      echo "More data" > $OUTPUT_DIR/dataset-v2
      '''

      [[step]]
      name = "process"
      inputs = ["dataset-v1"]
      script = '''
      tr '[:lower:]' '[:upper:]' < $INPUT_FILE > $OUTPUT_DIR/processed
      echo "processing $GRIT_INPUT_NAME"
      '''

      [[step]]
      name = "transform"
      inputs = ["dataset-v2"]
      script = "sort $INPUT_FILE > $OUTPUT_DIR/sorted"
      """;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
    grit = server.grit(dir);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Result run(int exit, String... args) throws Exception {
    Result r = grit.run(args);
    assertEquals(exit, r.exit(), () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  static Path manifest(String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  @Test
  void submitWaitThenReadEverythingBack() throws Exception {
    Path m = manifest("workflow.toml", WORKFLOW);
    String url = server.url();
    Result submitted = run(0, "submit", m.toString(), "--wait", "--server", url);
    long runId = Long.parseLong(submitted.out().strip());

    String list = run(0, "list", "--server", url).out();
    assertTrue(list.startsWith("RUN"), list);
    assertTrue(
        list.lines().anyMatch(l -> l.matches(runId + " +workflow +SUCCEEDED +3 succeeded .*")),
        list);
    JsonNode json =
        new ObjectMapper().readTree(run(0, "list", "-o", "json", "--server", url).out());
    assertEquals(runId, json.get(0).get("id").asLong());

    String get = run(0, "get", String.valueOf(runId), "--server", url).out();
    assertTrue(get.contains("SUCCEEDED"), get);
    assertTrue(get.contains("3 succeeded"), get);
    run(1, "get", "999999", "--server", url);

    // export: the same lines as the local command, from the server.
    String export = run(0, "export", "processed", "--pipeline", "workflow", "--server", url).out();
    String[] fields = export.strip().split("\t");
    assertEquals(3, fields.length, export);
    assertEquals("processed", fields[1]);
    assertTrue(fields[2].endsWith("Z"), export);
    assertEquals("INPUT DATA\n", run(0, "export-hash", fields[0], "--server", url).out());
    run(1, "export", "no-such-name", "--server", url);

    // logs through GRIT_ADDR instead of --server.
    long task =
        TestServer.json(server.get("/v1/pipelines/workflow/resources?name=processed"))
            .get(0)
            .get("producer_task")
            .asLong();
    var env = new java.util.HashMap<>(server.secrets.clientEnv());
    env.put("GRIT_ADDR", url);
    Result logs = new Grit(dir, env).run("logs", String.valueOf(task));
    assertEquals(0, logs.exit(), logs::toString);
    assertTrue(logs.out().startsWith("== attempt 1 on local: succeeded"), logs::toString);
    assertTrue(logs.out().contains("processing dataset-v1"), logs::toString);

    Result watched = run(0, "watch", "@latest", "--server", url);
    assertTrue(
        watched.out().contains("run " + runId + " succeeded: 3 tasks succeeded"),
        watched::toString);
    run(1, "cancel", String.valueOf(runId), "--server", url);
  }

  @Test
  void submitAndWatchPrintRecordsForPrograms() throws Exception {
    Path m = manifest("json.toml", WORKFLOW);
    String url = server.url();
    var json = new ObjectMapper();
    JsonNode submitted =
        json.readTree(
            run(0, "submit", m.toString(), "--pipeline", "json", "-o", "json", "--server", url).out());
    assertEquals("json", submitted.get("pipeline").asText(), submitted::toString);
    long first = submitted.get("run").asLong();

    // jsonl: the submission, then the run as it ended, one line each.
    Result waited =
        run(0, "submit", m.toString(), "--pipeline", "json-wait", "--wait", "-o", "jsonl", "--server", url);
    List<JsonNode> lines = records(waited.out());
    assertEquals(2, lines.size(), waited::toString);
    assertEquals(lines.get(0).get("run").asLong(), lines.get(1).get("id").asLong(), waited::toString);
    assertEquals("SUCCEEDED", lines.get(1).get("state").asText(), waited::toString);

    // watch: every attempt of the first run as a record, then the run.
    Result watched = run(0, "watch", String.valueOf(first), "-o", "jsonl", "--server", url);
    lines = records(watched.out());
    JsonNode end = lines.get(lines.size() - 1);
    assertEquals(first, end.get("id").asLong(), watched::toString);
    List<JsonNode> attempts = lines.subList(0, lines.size() - 1);
    assertEquals(3, attempts.size(), watched::toString);
    for (JsonNode a : attempts) {
      assertEquals("AttemptEnded", a.get("event").asText(), watched::toString);
      assertEquals("SUCCEEDED", a.get("task_state").asText(), watched::toString);
    }

    // submit --watch: the submission, its attempts, the run.
    Result both =
        run(0, "submit", m.toString(), "--pipeline", "json-watch", "--watch", "-o", "jsonl", "--server", url);
    lines = records(both.out());
    assertEquals(5, lines.size(), both::toString);
    assertEquals(lines.get(0).get("run").asLong(), lines.get(4).get("id").asLong(), both::toString);
    assertEquals("AttemptEnded", lines.get(1).get("event").asText(), both::toString);
    assertEquals("SUCCEEDED", lines.get(4).get("state").asText(), both::toString);
  }

  private static List<JsonNode> records(String jsonl) throws Exception {
    var json = new ObjectMapper();
    var out = new java.util.ArrayList<JsonNode>();
    for (String line : jsonl.lines().toList()) {
      out.add(json.readTree(line));
    }
    return out;
  }

  @Test
  void submitWatchPrintsProgressAndAFailedRunExitsOne() throws Exception {
    Path m = manifest("watched.toml", WORKFLOW);
    Result ok =
        run(
            0,
            "submit",
            m.toString(),
            "--pipeline",
            "watched",
            "--watch",
            "--server",
            server.url());
    assertTrue(ok.out().contains("✓ process #"), ok::toString);
    assertTrue(ok.out().contains("(dataset-v1)"), ok::toString);
    assertTrue(ok.out().contains("succeeded: 3 tasks succeeded, 0 failed"), ok::toString);

    Path failing =
        manifest(
            "failing.toml",
            """
            [[step]]
            name = "boom"
            retries = 0
            script = "echo broken >&2; exit 3"
            """);
    Result failed = run(1, "submit", failing.toString(), "--wait", "--server", server.url());
    assertTrue(failed.err().contains("failed: boom #"), failed::toString);
  }

  @Test
  void lineageAndTheInputsOfAGatherTaskFromAServer() throws Exception {
    Path m = manifest("wordcount.toml", Files.readString(dev.grit.node.testing.Examples.path("wordcount.toml")));
    String url = server.url();
    run(0, "submit", m.toString(), "--wait", "--server", url);

    JsonNode graph =
        new ObjectMapper()
            .readTree(run(0, "lineage", "total", "--pipeline", "wordcount", "-o", "json", "--server", url).out());
    assertEquals("up", graph.path("direction").asText());
    JsonNode total = graph.path("tasks").get(0);
    assertTrue(total.path("gather").asBoolean());
    int inputs = total.path("inputs").size();
    assertTrue(inputs >= 5, graph.toString());
    // The same graph as the local command reads from the data directory would give: by hash too.
    String hash = graph.path("resources").get(0).path("hash").asText();
    JsonNode byHash = new ObjectMapper().readTree(run(0, "lineage", hash, "-o", "json", "--server", url).out());
    assertEquals(graph, byHash);
    String tree = run(0, "lineage", "total", "--depth", "1", "--server", url).out();
    assertTrue(tree.contains("gather of " + inputs + " inputs"), tree);
    assertTrue(!tree.contains("split"), "one generation only: " + tree);

    // The task's own view lists every input, by name.
    JsonNode task = TestServer.json(server.get("/v1/tasks/" + total.path("id").asLong()));
    assertTrue(task.path("gather").asBoolean());
    assertEquals(inputs, task.path("inputs").size());
    assertEquals("counts/chunk_000", task.path("inputs").get(0).path("name").asText());

    // Names with a slash travel percent-encoded; unknown ones are a 404, a bad direction a 400.
    String down = run(0, "lineage", "counts/chunk_000", "--down", "--server", url).out();
    assertTrue(down.startsWith("counts/chunk_000  "), down);
    assertTrue(down.contains("total v1"), down);
    Result none = run(1, "lineage", "nothing-here", "--server", url);
    assertTrue(none.err().contains("no such resource"), none::toString);
    assertEquals(400, server.get("/v1/resources/total/lineage?direction=sideways").statusCode());
    assertEquals(404, server.get("/v1/resources/nothing/lineage").statusCode());
  }

  @Test
  void clusterStatusIsATable() throws Exception {
    String out = run(0, "cluster", "status", "--server", server.url()).out();
    String[] lines = out.split("\n");
    assertTrue(lines[0].startsWith("ID") && lines[0].contains("APPLIED"), out);
    assertTrue(lines[1].startsWith("local"), out);
    assertTrue(lines[1].contains("127.0.0.1:" + server.api.port()), out);
    assertTrue(lines[1].contains("yes"), out);
  }

  @Test
  void unreachableClusterExitsThree() throws Exception {
    String closed = "http://127.0.0.1:" + Ports.take();
    Result r = run(3, "list", "--server", closed);
    assertTrue(r.err().contains("no grit server answered"), r::toString);
    run(3, "cluster", "status", "--server", closed);
    // A list is tried in order: the second server answers.
    run(0, "list", "--server", closed + "," + server.url());
  }

  @Test
  void invalidManifestExitsTwoWithItsProblems() throws Exception {
    Path bad = manifest("bad.toml", "[[step]]\nname = \"a\"\nscript = \"true\"\nparalel = 2\n");
    Result r = run(2, "submit", bad.toString(), "--server", server.url());
    assertTrue(r.err().contains("bad.toml:4:1: step[0].paralel: unknown key"), r::toString);
    Path good = manifest("good.toml", "[[step]]\nname = \"a\"\nscript = \"true\"\n");
    run(2, "submit", good.toString(), "--step", "nope", "--server", server.url());
    // No server named at all is a usage error too.
    Result none = new Grit(dir, Map.of("GRIT_ADDR", "")).run("list");
    assertEquals(2, none.exit(), none::toString);
  }
}
