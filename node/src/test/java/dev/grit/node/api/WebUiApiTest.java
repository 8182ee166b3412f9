package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.node.auth.Role;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the web UI reads: a run's steps with counts and edges, its tasks a page at a time, runs by
 * pipeline and state, a task's outputs, the cluster's slots, the token's role, and the UI's own
 * files; with the 4xx answers to bad parameters.
 */
class WebUiApiTest {
  @TempDir static Path dir;
  static TestServer server;
  static long run;
  static long failedRun;

  /** Five chunks, one task each (one of them fails), and a gather step over their counts. */
  static final String FAN =
      """
      [[step]]
      name = "split"
      script = 'for i in 1 2 3 4 5; do echo "line $i" > $OUTPUT_DIR/chunk_$i; done'

      [[step]]
      name = "count"
      inputs = ["chunk_*"]
      script = 'mkdir -p $OUTPUT_DIR/counts; wc -c < $INPUT_FILE > "$OUTPUT_DIR/counts/$GRIT_INPUT_NAME"; echo "counted $GRIT_INPUT_NAME"'

      [[step]]
      name = "total"
      inputs = ["counts/*"]
      gather = true
      script = 'cut -f3 "$INPUT_LIST" | while read -r f; do cat "$f"; done > $OUTPUT_DIR/total'
      """;

  static final String FAILING =
      """
      [[step]]
      name = "make"
      script = 'echo a > $OUTPUT_DIR/a; echo b > $OUTPUT_DIR/b'

      [[step]]
      name = "check"
      inputs = ["?"]
      script = 'test "$GRIT_INPUT_NAME" = a || { echo "not a: $GRIT_INPUT_NAME" >&2; exit 3; }'
      """;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
    run = server.submit("fan", FAN);
    failedRun = server.submit("failing", FAILING);
    assertEquals("SUCCEEDED", server.awaitEnd(run, Duration.ofSeconds(60)).get("state").asText());
    assertEquals(
        "FAILED", server.awaitEnd(failedRun, Duration.ofSeconds(60)).get("state").asText());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void stepsComeInManifestOrderWithCountsAndTheEdgesTheirTasksMade() throws Exception {
    JsonNode steps = ok("/v1/runs/" + run + "/steps");
    assertEquals(run, steps.get("run").asLong());
    assertEquals("SUCCEEDED", steps.get("state").asText());
    List<String> names = new ArrayList<>();
    steps.get("steps").forEach(s -> names.add(s.get("name").asText()));
    assertEquals(List.of("split", "count", "total"), names);
    JsonNode count = steps.get("steps").get(1);
    assertEquals(5, count.get("tasks").get("succeeded").asInt(), count.toString());
    assertEquals(5, count.get("tasks").get("total").asInt());
    assertEquals(0, count.get("tasks").get("failed").asInt());
    assertEquals("chunk_*", count.get("inputs").get(0).asText());
    assertTrue(steps.get("steps").get(2).get("gather").asBoolean());

    var edges = new HashSet<String>();
    steps
        .get("edges")
        .forEach(
            e ->
                edges.add(
                    e.get("from").asText()
                        + ">"
                        + e.get("to").asText()
                        + " "
                        + e.get("pattern").asText()
                        + " "
                        + e.get("input").asText()));
    assertEquals(
        java.util.Set.of("split>count chunk_* chunk_1", "count>total counts/* counts/chunk_1"),
        edges);

    JsonNode failing = ok("/v1/runs/" + failedRun + "/steps").get("steps").get(1);
    assertEquals("check", failing.get("name").asText());
    assertEquals(1, failing.get("tasks").get("failed").asInt(), failing.toString());
    assertEquals(1, failing.get("tasks").get("succeeded").asInt());
  }

  @Test
  void tasksComeAPageAtATimeByIdWithTheFilterTotal() throws Exception {
    JsonNode all = ok("/v1/runs/" + run + "/tasks");
    assertEquals(7, all.get("total").asInt(), all.toString());
    assertEquals(50, all.get("limit").asInt());
    assertEquals(7, all.get("tasks").size());
    long previous = 0;
    for (JsonNode t : all.get("tasks")) {
      assertTrue(t.get("id").asLong() > previous, all.toString());
      previous = t.get("id").asLong();
      assertEquals("SUCCEEDED", t.get("state").asText());
      assertTrue(t.get("started_at").asText().endsWith("Z"), t.toString());
      assertEquals(0, t.get("exit_code").asInt(), t.toString());
      assertEquals("local", t.get("node").asText(), t.toString());
    }

    JsonNode page = ok("/v1/runs/" + run + "/tasks?step=count&offset=1&limit=2");
    assertEquals(5, page.get("total").asInt());
    assertEquals(1, page.get("offset").asInt());
    assertEquals(2, page.get("tasks").size());
    assertEquals("count", page.get("tasks").get(0).get("step").asText());
    assertEquals("chunk_2", page.get("tasks").get(0).get("input_name").asText());
    assertEquals("chunk_3", page.get("tasks").get(1).get("input_name").asText());

    JsonNode failed = ok("/v1/runs/" + failedRun + "/tasks?state=failed");
    assertEquals(1, failed.get("total").asInt(), failed.toString());
    JsonNode f = failed.get("tasks").get(0);
    assertEquals("b", f.get("input_name").asText());
    assertEquals(3, f.get("exit_code").asInt(), f.toString());
    assertEquals(0, ok("/v1/runs/" + run + "/tasks?state=FAILED").get("total").asInt());
    assertEquals(0, ok("/v1/runs/" + run + "/tasks?step=nothing").get("tasks").size());
  }

  @Test
  void runsAreFilteredByPipelineAndStateAndPaged() throws Exception {
    JsonNode fan = ok("/v1/runs?pipeline=fan");
    assertEquals(1, fan.size(), fan.toString());
    assertEquals(run, fan.get(0).get("id").asLong());
    JsonNode failed = ok("/v1/runs?state=failed");
    assertEquals(1, failed.size(), failed.toString());
    assertEquals(failedRun, failed.get(0).get("id").asLong());
    assertEquals(0, ok("/v1/runs?pipeline=fan&state=failed").size());
    JsonNode newest = ok("/v1/runs?limit=1");
    assertEquals(failedRun, newest.get(0).get("id").asLong());
    assertEquals(run, ok("/v1/runs?limit=1&offset=1").get(0).get("id").asLong());

    JsonNode summary = ok("/v1/runs/" + failedRun + "?summary=true");
    assertTrue(summary.get("failed").isNull(), summary.toString());
    assertEquals(1, ok("/v1/runs/" + failedRun).get("failed").size());
  }

  @Test
  void aTaskListsItsOutputsWhoseBytesDownload() throws Exception {
    long split = ok("/v1/runs/" + run + "/tasks?step=split").get("tasks").get(0).get("id").asLong();
    JsonNode outputs = ok("/v1/tasks/" + split).get("outputs");
    assertEquals(5, outputs.size(), outputs.toString());
    JsonNode first = outputs.get(0);
    assertEquals("chunk_1", first.get("name").asText());
    var bytes = server.getBytes("/v1/objects/" + first.get("hash").asText());
    assertEquals(200, bytes.statusCode());
    assertEquals("line 1\n", new String(bytes.body(), StandardCharsets.UTF_8));
    assertEquals(first.get("size").asLong(), bytes.body().length);
  }

  @Test
  void theClusterShowsEachMembersSlotsAndTheTokenItsRole() throws Exception {
    JsonNode cluster = ok("/v1/cluster");
    JsonNode self = cluster.get("members").get(0);
    assertEquals("local", self.get("id").asText());
    assertTrue(self.has("slots") && self.has("slots_in_use"), self.toString());
    assertEquals(0, self.get("slots_in_use").asInt(), self.toString());
    assertTrue(self.get("commit_index").asLong() > 0, self.toString());

    for (Role role : Role.values()) {
      var r = server.send(server.secrets.request(server.url() + "/v1/whoami", role).GET().build());
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(role.spelling(), TestServer.json(r).get("role").asText());
    }
  }

  @Test
  void badParametersAre4xxWithAJsonError() throws Exception {
    for (String path :
        List.of(
            "/v1/runs/" + run + "/tasks?state=done",
            "/v1/runs/" + run + "/tasks?limit=0",
            "/v1/runs/" + run + "/tasks?limit=1001",
            "/v1/runs/" + run + "/tasks?offset=-1",
            "/v1/runs/" + run + "/tasks?offset=x",
            "/v1/runs/abc/steps",
            "/v1/runs/0/tasks",
            "/v1/runs?state=lost",
            "/v1/runs?offset=-5")) {
      var r = server.get(path);
      assertEquals(400, r.statusCode(), path + ": " + r.body());
      assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("application/json"));
      assertFalse(TestServer.json(r).get("error").asText().isEmpty(), r.body());
    }
    assertTrue(
        TestServer.json(server.get("/v1/runs/" + run + "/tasks?state=done"))
            .get("detail")
            .asText()
            .contains("pending"));
    for (String path : List.of("/v1/runs/99999/steps", "/v1/runs/99999/tasks", "/ui/nothing.js")) {
      var r = server.get(path);
      assertEquals(404, r.statusCode(), path + ": " + r.body());
      assertFalse(TestServer.json(r).get("error").asText().isEmpty(), r.body());
    }
  }

  @Test
  void theUiFilesComeFromTheJarWithAPolicyThatAllowsOnlyThisNode() throws Exception {
    HttpResponse<String> page = server.get("/");
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("content-type").orElse("").startsWith("text/html"));
    assertTrue(page.body().contains("/ui/app.js"), page.body());
    String policy = page.headers().firstValue("content-security-policy").orElse("");
    assertTrue(policy.contains("default-src 'self'"), policy);
    assertFalse(page.body().contains("http://") || page.body().contains("https://"), page.body());
    for (String file : List.of("app.js", "api.js", "graph.js", "style.css")) {
      var r = server.get("/ui/" + file);
      assertEquals(200, r.statusCode(), file);
      // Nothing is fetched from elsewhere: no absolute URL in any file but the SVG namespace.
      String body = r.body().replace("http://www.w3.org/2000/svg", "");
      assertFalse(body.contains("http://") || body.contains("https://"), file);
    }
    String script = server.get("/ui/app.js").headers().firstValue("content-type").orElse("");
    assertTrue(script.startsWith("text/javascript"), script);
  }

  private static JsonNode ok(String path) throws Exception {
    var r = server.get(path);
    assertEquals(200, r.statusCode(), path + ": " + r.body());
    return TestServer.json(r);
  }
}
