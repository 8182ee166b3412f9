package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * Every error path answers with the right status and a JSON {@code {"error", "detail"}} body, and a
 * refused submission writes nothing.
 */
class ApiErrorsTest {
  @TempDir static Path dir;
  static TestServer server;

  static final String UNKNOWN_HASH = "ab".repeat(32);

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Asserts the status and the JSON error shape; returns the body. */
  static JsonNode error(int status, HttpResponse<String> r) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    assertTrue(
        r.headers().firstValue("content-type").orElse("").startsWith("application/json"),
        r.headers().toString());
    JsonNode body = TestServer.json(r);
    assertTrue(body.get("error").isTextual(), r.body());
    assertTrue(body.has("detail"), r.body());
    assertFalse(r.body().contains("\tat "), "a stack trace leaked: " + r.body());
    return body;
  }

  int runCount() throws Exception {
    return TestServer.json(server.get("/v1/runs?limit=10000")).size();
  }

  @Test
  void invalidTomlIsA400WithLineNumbersAndWritesNothing() throws Exception {
    int before = runCount();
    JsonNode body =
        error(
            400,
            server.post(
                "/v1/runs?source=bad.toml",
                "[[step]]\nname = \"a\"\nscript = \"true\"\nnope = \n"));
    assertEquals("invalid manifest", body.get("error").asText());
    JsonNode problem = body.get("detail").get(0);
    assertEquals("bad.toml", problem.get("file").asText());
    assertEquals(4, problem.get("line").asInt(), body.toString());
    assertTrue(problem.get("column").asInt() > 0, body.toString());
    assertTrue(problem.get("message").asText().contains("invalid TOML"), body.toString());

    JsonNode unknownKey =
        error(
            400,
            server.post(
                "/v1/runs?source=bad.toml",
                "[[step]]\nname = \"a\"\nscript = \"true\"\nparalel = 2\n"));
    JsonNode p = unknownKey.get("detail").get(0);
    assertEquals(4, p.get("line").asInt());
    assertEquals("step[0].paralel", p.get("field").asText());

    // Without a source or pipeline there is no file name to take the pipeline's name from.
    error(400, server.post("/v1/runs", "[[step]]\nname = \"a\"\nscript = \"true\"\n"));
    assertEquals(before, runCount(), "a refused manifest must propose nothing");
  }

  @Test
  void unknownStepFiltersAreRefused() throws Exception {
    int before = runCount();
    String manifest = "[[step]]\nname = \"a\"\nscript = \"true\"\n";
    JsonNode body = error(400, server.post("/v1/runs?pipeline=f&start=zzz", manifest));
    assertEquals("unknown step", body.get("error").asText());
    error(400, server.post("/v1/runs?pipeline=f&step=a&step=nope", manifest));
    error(400, server.post("/v1/runs?pipeline=f&parallel=-1", manifest));
    error(400, server.post("/v1/runs?pipeline=no%20spaces", manifest));
    assertEquals(before, runCount());
  }

  @Test
  void unknownThingsAre404() throws Exception {
    error(404, server.get("/v1/runs/999999"));
    error(404, server.get("/v1/runs/999999/events"));
    error(404, server.post("/v1/runs/999999/cancel", ""));
    error(404, server.get("/v1/tasks/999999"));
    error(404, server.get("/v1/tasks/999999/log"));
    error(404, server.get("/v1/objects/" + UNKNOWN_HASH));
    error(404, server.getAsMember("/v1/chunks/" + UNKNOWN_HASH));
    JsonNode body = error(404, server.get("/v1/nothing/here"));
    assertEquals("not found", body.get("error").asText());
    // "/" is the web UI's page; anything else outside the API is not found.
    error(404, server.get("/nothing"));
    error(404, server.get("/ui/nothing.js"));
  }

  @Test
  void malformedIdsAndHashesAre400() throws Exception {
    error(400, server.get("/v1/runs/abc"));
    error(400, server.get("/v1/runs/-3"));
    error(400, server.get("/v1/tasks/1x/log"));
    error(400, server.post("/v1/runs/abc/cancel", ""));
    error(400, server.get("/v1/objects/xyz"));
    error(400, server.get("/v1/objects/" + "zz".repeat(32)));
    error(400, server.getAsMember("/v1/chunks/123"));
    error(400, server.get("/v1/runs?limit=0"));
    error(400, server.get("/v1/runs?limit=many"));
    error(400, server.get("/v1/resources"));
  }

  @Test
  void wrongMethodIs405WithAllow() throws Exception {
    var r = server.send(server.request("/v1/runs").DELETE().build());
    JsonNode body = error(405, r);
    assertEquals("method not allowed", body.get("error").asText());
    String allow = r.headers().firstValue("allow").orElse("");
    assertTrue(allow.contains("GET") && allow.contains("POST"), allow);
    error(405, server.post("/v1/runs/1", ""));
    error(405, server.get("/v1/runs/1/cancel"));
    error(405, server.post("/livez", ""));
  }

  @Test
  void oversizedBodyIs413() throws Exception {
    String huge = "#".repeat(ApiServer.MAX_BODY_BYTES + 1);
    JsonNode body = error(413, server.post("/v1/runs?pipeline=huge", huge));
    assertEquals("request body too large", body.get("error").asText());
    // The connection is still usable, or a fresh one is: the server goes on answering.
    assertEquals(200, server.get("/livez").statusCode());
  }

  @Test
  void cancellingAnEndedRunIsAConflict() throws Exception {
    long run = server.submit("ended", "[[step]]\nname = \"a\"\nscript = \"true\"\n");
    server.awaitEnd(run, Duration.ofSeconds(30));
    JsonNode body = error(409, server.post("/v1/runs/" + run + "/cancel", ""));
    assertTrue(body.get("detail").asText().contains("succeeded"), body.toString());
  }

  @Test
  void withoutRaftWritesAre503AndLivenessStaysUp(@TempDir Path own) throws Exception {
    try (var lonely = new TestServer(own)) {
      // The Raft server and its state machine stop; the process and its HTTP server go on.
      lonely.node.raft().close();
      assertEquals(200, lonely.get("/livez").statusCode());
      JsonNode body =
          error(
              503,
              lonely.post("/v1/runs?pipeline=p", "[[step]]\nname = \"a\"\nscript = \"true\"\n"));
      assertEquals("Raft unavailable", body.get("error").asText());
      assertEquals(200, lonely.get("/livez").statusCode());
      // Not ready, and the probe says why: this member's Raft server stopped.
      JsonNode notReady = error(503, lonely.get("/readyz"));
      assertTrue(
          notReady.get("detail").asText().contains("Raft server"), notReady.toString());
    }
  }

  @Test
  void anObjectWhoseChunkIsNotHereIs503(@TempDir Path own) throws Exception {
    int raftPort = Ports.take();
    String hash = objectWithoutItsChunk(own, raftPort);
    Wait.until(
        "Raft port " + raftPort + " to be free", Duration.ofSeconds(20), () -> free(raftPort));
    try (var restarted = new TestServer(own, raftPort)) {
      JsonNode body = error(503, restarted.get("/v1/objects/" + hash));
      assertEquals("object not yet replicated here", body.get("error").asText());
      error(404, restarted.getAsMember("/v1/chunks/" + hash));
    }
  }

  /**
   * A record that knows an object whose chunk is not in the store, as on a replica that has applied
   * the entry but not fetched the bytes: made by deleting the chunk of a stopped node.
   */
  private static String objectWithoutItsChunk(Path data, int raftPort) throws Exception {
    String hash;
    try (var node = new TestServer(data, raftPort)) {
      long run =
          node.submit("gap", "[[step]]\nname = \"a\"\nscript = \"echo hi > $OUTPUT_DIR/x\"\n");
      node.awaitEnd(run, Duration.ofSeconds(30));
      hash =
          TestServer.json(node.get("/v1/pipelines/gap/resources?name=x"))
              .get(0)
              .get("hash")
              .asText();
    }
    try (var options = new Options();
        var db = RocksDB.open(options, data.resolve("objects").toString())) {
      db.delete(Digest.valueOf(hash).toBytes());
    }
    return hash;
  }

  /** Whether the port can be bound again (Ratis lets go of it a little after closing). */
  private static boolean free(int port) {
    try (var s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void gcNeedsAnAgeAndForgetsEndedRunsThroughTheLog() throws Exception {
    error(400, server.post("/v1/gc", ""));
    error(400, server.post("/v1/gc?older_than=soon", ""));
    long run = server.submit("old", "[[step]]\nname = \"a\"\nscript = \"echo hi > $OUTPUT_DIR/x\"\n");
    server.awaitEnd(run, Duration.ofSeconds(30));
    // The node raises the record's rules once it has registered what its code supports.
    dev.grit.consensus.testing.Wait.until(
        "retention's rules are followed",
        Duration.ofSeconds(30),
        () -> server.node.queries().rulesVersion() >= dev.grit.engine.command.RulesVersion.RETENTION);

    var r = server.post("/v1/gc?older_than=0s", "");

    assertEquals(200, r.statusCode(), r.body());
    JsonNode body = TestServer.json(r);
    assertTrue(body.get("runs").asInt() >= 1, body.toString());
    error(404, server.get("/v1/runs/" + run));
    // The run's current output stays.
    assertEquals(200, server.get("/v1/resources?name=x").statusCode());
    assertFalse(TestServer.json(server.get("/v1/resources?name=x")).isEmpty());
  }
}
