package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.testing.Wait;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server-sent event stream of a run, and cancelling a run whose script is still running. */
class RunEventsAndCancelTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  CompletableFuture<HttpResponse<Stream<String>>> subscribe(long run) {
    return server
        .http()
        .sendAsync(
            server.request("/v1/runs/" + run + "/events").build(),
            HttpResponse.BodyHandlers.ofLines());
  }

  @Test
  void theStreamCarriesTheRunsEventsAndClosesAtItsEnd() throws Exception {
    Path gate = dir.resolve("gate");
    long run =
        server.submit(
            "gated",
            """
            [[step]]
            name = "wait"
            script = '''
            while [ ! -e %s ]; do sleep 0.02; done
            echo a > $OUTPUT_DIR/one
            echo b > $OUTPUT_DIR/two
            '''

            [[step]]
            name = "use"
            inputs = ["one", "two"]
            script = "cat $INPUT_FILE > $OUTPUT_DIR/used-$GRIT_INPUT_NAME"
            """
                .formatted(gate));
    var response = subscribe(run).get(10, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode());
    assertTrue(
        response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    Files.createFile(gate);
    var events = SseEvents.read(response);

    var types = events.stream().map(SseEvents.Event::type).toList();
    assertEquals(3, types.stream().filter("AttemptEnded"::equals).count(), types.toString());
    assertEquals("RunEnded", types.get(types.size() - 1), types.toString());
    SseEvents.Event end = events.get(events.size() - 1);
    assertEquals(run, end.data().get("run_id").asLong());
    assertEquals("SUCCEEDED", end.data().get("state").asText());
    for (SseEvents.Event e : events) {
      assertEquals(e.type(), e.data().get("type").asText());
      assertEquals(run, e.data().get("run_id").asLong(), e.toString());
    }
    JsonNode used =
        events.stream()
            .filter(
                e -> e.type().equals("AttemptEnded") && e.data().get("step").asText().equals("use"))
            .findFirst()
            .orElseThrow()
            .data();
    assertEquals("SUCCEEDED", used.get("task_state").asText());
    assertTrue(used.get("input_name").asText().matches("one|two"), used.toString());

    // Subscribing to a run that already ended: its history from the record (the same attempts with
    // the same outcomes and outputs), then its end, and the stream closes.
    var late = SseEvents.read(subscribe(run).get(10, TimeUnit.SECONDS));
    assertEquals(told(events), told(late));
    assertEquals("RunEnded", late.get(late.size() - 1).type());
    assertEquals("SUCCEEDED", late.get(late.size() - 1).data().get("state").asText());
  }

  @Test
  void aSupersededRunsStreamEndsToo() throws Exception {
    Path gate = dir.resolve("never");
    long first =
        server.submit(
            "superseded",
            "[[step]]\nname = \"wait\"\nscript = \"while [ ! -e %s ]; do sleep 0.02; done\"\n"
                .formatted(gate));
    var stream = subscribe(first).get(10, TimeUnit.SECONDS);
    // A new submission to the same pipeline takes over: the first run ends SUPERSEDED, with no
    // RunEnded event of its own.
    long second = server.submit("superseded", "[[step]]\nname = \"other\"\nscript = \"true\"\n");
    var events = SseEvents.read(stream);
    SseEvents.Event end = events.get(events.size() - 1);
    assertEquals("RunEnded", end.type());
    assertEquals("SUPERSEDED", end.data().get("state").asText());
    server.awaitEnd(second, Duration.ofSeconds(30));
  }

  @Test
  void cancellingARunningRunEndsItCancelledAndKillsTheScript() throws Exception {
    Path pidFile = dir.resolve("sleeper.pid");
    long run =
        server.submit(
            "sleepy",
            """
            [[step]]
            name = "sleep"
            script = '''
            sleep 30 &
            echo $! > %s
            wait
            '''
            """
                .formatted(pidFile));
    Wait.until("the script to start", Duration.ofSeconds(20), () -> Files.exists(pidFile));
    Wait.until("its pid to be written", Duration.ofSeconds(5), () -> pid(pidFile) > 0);
    long sleeper = pid(pidFile);
    assertTrue(alive(sleeper));
    var stream = subscribe(run).get(10, TimeUnit.SECONDS);

    var r = server.post("/v1/runs/" + run + "/cancel", "");
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("CANCELLED", TestServer.json(r).get("state").asText());

    JsonNode view = server.awaitEnd(run, Duration.ofSeconds(10));
    assertEquals("CANCELLED", view.get("state").asText());
    assertEquals(1, view.get("tasks").get("cancelled").asInt(), view.toString());
    var events = SseEvents.read(stream);
    assertEquals("CANCELLED", events.get(events.size() - 1).data().get("state").asText());
    Wait.until("the script's sleep to be killed", Duration.ofSeconds(10), () -> !alive(sleeper));
    assertEquals(409, server.post("/v1/runs/" + run + "/cancel", "").statusCode());
  }

  /** What each event said about each attempt, by attempt. */
  private static Map<String, List<JsonNode>> told(List<SseEvents.Event> events) {
    var out = new TreeMap<String, List<JsonNode>>();
    for (SseEvents.Event e : events) {
      if (e.type().startsWith("Attempt")) {
        JsonNode d = e.data();
        var fields = new ArrayList<JsonNode>();
        for (String f : List.of("type", "step", "node", "task_state", "outputs", "input_name")) {
          fields.add(d.get(f));
        }
        out.put(d.get("task_id") + "/" + d.get("attempt"), fields);
      }
    }
    return out;
  }

  private static long pid(Path file) {
    try {
      String text = Files.readString(file).trim();
      return text.isEmpty() ? -1 : Long.parseLong(text);
    } catch (Exception e) {
      return -1;
    }
  }

  /** Running, and not a zombie waiting for a parent that no longer reaps. */
  private static boolean alive(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return !state.equals("Z") && !state.equals("X");
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
