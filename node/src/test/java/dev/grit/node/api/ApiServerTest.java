package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.engine.object.Digest;
import dev.grit.node.auth.Role;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API's happy paths and its probes, against a real embedded node. */
class ApiServerTest {
  @TempDir static Path dir;
  static TestServer server;

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
      cat $INPUT_FILE | tr '[:lower:]' '[:upper:]' > $OUTPUT_DIR/processed
      echo "processed $GRIT_INPUT_NAME"
      '''

      [[step]]
      name = "transform"
      inputs = ["dataset-v2"]
      script = "sort $INPUT_FILE > $OUTPUT_DIR/sorted"
      """;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void submittedRunCompletesAndItsOutputsAreReadable() throws Exception {
    var r = server.post("/v1/runs?source=dir/workflow.toml", WORKFLOW);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode submitted = TestServer.json(r);
    assertEquals("workflow", submitted.get("pipeline").asText());
    long run = submitted.get("run").asLong();

    JsonNode view = server.awaitEnd(run, Duration.ofSeconds(30));
    assertEquals("SUCCEEDED", view.get("state").asText(), view.toString());
    assertEquals(3, view.get("tasks").get("succeeded").asInt());
    assertTrue(view.get("submitted_at").asText().endsWith("Z"), view.toString());
    assertTrue(view.get("finished_at").isTextual(), view.toString());
    assertEquals(0, view.get("failed").size());

    var listed = TestServer.json(server.get("/v1/runs?limit=100"));
    var ids = new HashSet<Long>();
    listed.forEach(n -> ids.add(n.get("id").asLong()));
    assertTrue(ids.contains(run), listed.toString());

    var resources = TestServer.json(server.get("/v1/pipelines/workflow/resources?name=processed"));
    assertEquals(1, resources.size(), resources.toString());
    JsonNode processed = resources.get(0);
    String hash = processed.get("hash").asText();
    var object = server.getBytes("/v1/objects/" + hash);
    assertEquals(200, object.statusCode());
    assertEquals(
        "application/octet-stream", object.headers().firstValue("content-type").orElse(""));
    assertEquals("INPUT DATA\n", new String(object.body(), StandardCharsets.UTF_8));
    assertEquals(hash, Digest.of(object.body()).toString());
    assertEquals(processed.get("size").asLong(), object.body().length);
    // A one-chunk object's chunk has the object's digest.
    assertArrayEquals(object.body(), server.getBytesAsMember("/v1/chunks/" + hash).body());

    var all = TestServer.json(server.get("/v1/pipelines/workflow/resources"));
    assertEquals(4, all.size(), all.toString());
    var named = TestServer.json(server.get("/v1/resources?name=sorted&pipeline=workflow"));
    assertEquals(1, named.size(), named.toString());

    long producer = processed.get("producer_task").asLong();
    JsonNode task = TestServer.json(server.get("/v1/tasks/" + producer));
    assertEquals("process", task.get("step").asText());
    assertEquals("SUCCEEDED", task.get("state").asText());
    assertEquals("dataset-v1", task.get("input").get("name").asText());
    assertEquals(1, task.get("attempts").size());
    var log = server.get("/v1/tasks/" + producer + "/log");
    assertEquals(200, log.statusCode());
    assertTrue(log.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
    assertTrue(log.body().startsWith("== attempt 1 on local: succeeded"), log.body());
    assertTrue(log.body().contains("processed dataset-v1"), log.body());
  }

  @Test
  void theSameRequestIdMakesOneRun() throws Exception {
    String id = UUID.randomUUID().toString();
    var first =
        server.send(
            server.request("/v1/runs?pipeline=idem")
                .header("Request-Id", id)
                .POST(HttpRequest.BodyPublishers.ofString(WORKFLOW))
                .build());
    var again = server.post("/v1/runs?pipeline=idem&request_id=" + id, WORKFLOW);
    assertEquals(201, first.statusCode(), first.body());
    assertEquals(201, again.statusCode(), again.body());
    assertEquals(
        TestServer.json(first).get("run").asLong(), TestServer.json(again).get("run").asLong());
    server.awaitEnd(TestServer.json(first).get("run").asLong(), Duration.ofSeconds(30));
  }

  @Test
  void aLargeObjectStreamsInChunksAndVerifies() throws Exception {
    // Three 4 MiB chunks and a bit: the download crosses chunk boundaries.
    long run =
        server.submit(
            "big",
            """
            [[step]]
            name = "make"
            script = "head -c 13000000 /dev/urandom > $OUTPUT_DIR/big"
            """);
    assertEquals("SUCCEEDED", server.awaitEnd(run, Duration.ofSeconds(30)).get("state").asText());
    JsonNode row = TestServer.json(server.get("/v1/pipelines/big/resources?name=big")).get(0);
    var object = server.getBytes("/v1/objects/" + row.get("hash").asText());
    assertEquals(200, object.statusCode());
    assertEquals(13_000_000, object.body().length);
    assertEquals(row.get("hash").asText(), Digest.of(object.body()).toString());
    assertEquals("13000000", object.headers().firstValue("content-length").orElse(""));
  }

  /**
   * Downloads and other requests take turns on one kept-alive connection, each next request sent
   * the moment the previous body is complete: every answer is whole and in order, whatever the
   * object's size (empty, less than a piece, exactly one, several).
   */
  @Test
  void downloadsKeepTheConnectionForTheRequestsThatFollow() throws Exception {
    long run =
        server.submit(
            "sizes",
            """
            [[step]]
            name = "make"
            script = '''
            : > $OUTPUT_DIR/empty
            echo small > $OUTPUT_DIR/small
            head -c 131072 /dev/urandom > $OUTPUT_DIR/piece
            head -c 1000000 /dev/urandom > $OUTPUT_DIR/pieces
            '''
            """);
    assertEquals("SUCCEEDED", server.awaitEnd(run, Duration.ofSeconds(30)).get("state").asText());
    var hashes = new ArrayList<String>();
    for (JsonNode r : TestServer.json(server.get("/v1/pipelines/sizes/resources"))) {
      hashes.add(r.get("hash").asText());
    }
    assertEquals(4, hashes.size(), hashes::toString);

    try (var connection = new KeptAlive(server)) {
      for (int round = 0; round < 20; round++) {
        for (String hash : hashes) {
          var object = connection.get("/v1/objects/" + hash);
          assertEquals(200, object.status());
          assertEquals(hash, Digest.of(object.body()).toString());
          assertTrue(object.keptAlive(), "the download closed the connection");
          var view = connection.get("/v1/runs/" + run);
          assertEquals(200, view.status());
          assertEquals(
              run,
              TestServer.JSON.readTree(view.body()).get("id").asLong(),
              () -> new String(view.body(), StandardCharsets.UTF_8));
        }
      }
    }
  }

  /** One TLS connection that sends each request as soon as the previous answer is read. */
  private static final class KeptAlive implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final String token;

    record Answer(int status, byte[] body, boolean keptAlive) {}

    KeptAlive(TestServer server) throws IOException {
      socket =
          server.secrets.clientContext().getSocketFactory().createSocket("127.0.0.1", server.api.port());
      socket.setSoTimeout(10_000);
      in = new BufferedInputStream(socket.getInputStream());
      token = server.secrets.token(Role.READ);
    }

    Answer get(String path) throws IOException {
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String status = line();
      long length = -1;
      boolean keptAlive = true;
      for (String h = line(); !h.isEmpty(); h = line()) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).trim());
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          keptAlive = false;
        }
      }
      assertTrue(length >= 0, "no Content-Length for " + path + ": " + status);
      byte[] body = in.readNBytes((int) length);
      assertEquals(length, body.length, "the body of " + path + " ended short");
      return new Answer(Integer.parseInt(status.split(" ")[1]), body, keptAlive);
    }

    private String line() throws IOException {
      var out = new StringBuilder();
      for (int c = in.read(); c != '\n'; c = in.read()) {
        if (c < 0) {
          throw new EOFException("the server closed the connection after: " + out);
        }
        if (c != '\r') {
          out.append((char) c);
        }
      }
      return out.toString();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void consistentReadsWaitForTheBarrierAndAnswer() throws Exception {
    var r = server.get("/v1/runs?consistent=true");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(TestServer.json(r).isArray());
  }

  @Test
  void probesAndCluster() throws Exception {
    var live = server.get("/livez");
    assertEquals(200, live.statusCode());
    assertEquals("ok", TestServer.json(live).get("status").asText());
    var ready = server.get("/readyz");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("local", TestServer.json(ready).get("leader").asText());

    JsonNode cluster = TestServer.json(server.get("/v1/cluster"));
    assertEquals("local", cluster.get("self").asText());
    assertEquals("local", cluster.get("leader").asText());
    assertTrue(cluster.get("term").asLong() >= 1);
    JsonNode me = cluster.get("members").get(0);
    assertEquals("127.0.0.1:" + server.api.port(), me.get("http_address").asText());
    assertTrue(me.get("leader").asBoolean());
    assertTrue(me.get("applied_index").asLong() > 0, me.toString());
  }

  @Test
  void metricsAreValidPrometheusText() throws Exception {
    long run = server.submit("metrics", "[[step]]\nname = \"a\"\nscript = \"true\"\n");
    server.awaitEnd(run, Duration.ofSeconds(30));
    var r = server.get("/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"));
    var samples = new java.util.HashMap<String, Double>();
    for (String line : r.body().split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      // name{labels} value — the text format, one sample a line.
      var m = java.util.regex.Pattern.compile("([a-z_]+(\\{[^}]*\\})?) (\\S+)").matcher(line);
      assertTrue(m.matches(), "not a sample line: " + line);
      samples.put(m.group(1), Double.parseDouble(m.group(3)));
    }
    assertEquals(1.0, samples.get("grit_raft_has_leader"), r.body());
    for (String name :
        new String[] {
          "grit_raft_term",
          "grit_raft_commit_index",
          "grit_raft_applied_index",
          "grit_objects_stored_bytes",
          "grit_tasks_completed_total{outcome=\"failed\"}",
          "grit_task_duration_seconds_count",
          "grit_runs{state=\"running\"}",
        }) {
      assertTrue(samples.containsKey(name), name + " missing from\n" + r.body());
    }
    assertTrue(samples.get("grit_tasks_completed_total{outcome=\"succeeded\"}") >= 1, r.body());
    assertTrue(samples.get("grit_runs{state=\"succeeded\"}") >= 1, r.body());
    assertTrue(samples.get("grit_raft_applied_index") > 0, r.body());
  }
}
