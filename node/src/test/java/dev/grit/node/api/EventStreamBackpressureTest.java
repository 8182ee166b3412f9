package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.testing.Wait;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event streams against clients that do not keep up: a client that stops reading costs the node a
 * bounded buffer and is dropped with an event it sees when it reads again; a reading client on the
 * same run is unaffected; streams beyond the node's limit are refused with a JSON error.
 */
class EventStreamBackpressureTest {
  /**
   * Small limits, so a stalled client overflows after a few hundred events: 100 queued, 1 KiB in
   * the write buffer, 4 KiB in the kernel's send buffer (left to itself, Linux lets it grow to
   * MiBs).
   */
  static final EventStreamLimits LIMITS = new EventStreamLimits(4, 100, 1024 * 1024, 1024, 4096);

  /** The most an event of these runs takes, with netty's overhead for one write. */
  static final int ONE_EVENT_BYTES = 4096;

  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"), LIMITS);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void noStreamsOpen() {
    Wait.until(
        "the previous test's streams to close",
        Duration.ofSeconds(30),
        () -> server.api.events().open() == 0);
  }

  @Test
  void aClientThatStopsReadingIsDroppedAndAReadingOneIsNot() throws Exception {
    Path stop = dir.resolve("stop-counting");
    // Four chains of tasks, each consuming the previous one's output, until the stop file appears:
    // events keep coming for as long as the test needs them.
    long run =
        server.submit(
            "counting",
            """
            [[step]]
            name = "seed"
            script = "for c in a b c d; do echo 0 > $OUTPUT_DIR/$c-0; done"

            [[step]]
            name = "count"
            inputs = ["?-*"]
            script = '''
            [ -e %s ] && exit 0
            n=$(( $(cat $INPUT_FILE) + 1 ))
            echo $n > $OUTPUT_DIR/${GRIT_INPUT_NAME%%%%-*}-$n
            '''
            """
                .formatted(stop));
    String path = "/v1/runs/" + run + "/events";
    try (var stalled = new RawEventClient(server, path, 4096)) {
      CompletableFuture<List<SseEvents.Event>> reading =
          SseEvents.readAsync(subscribe(run).get(10, TimeUnit.SECONDS));

      Wait.until(
          "the stalled client to be dropped",
          Duration.ofMinutes(2),
          () -> server.api.events().dropped() >= 1,
          () -> "open streams " + server.api.events().open());
      Files.createFile(stop);
      JsonNode end = server.awaitEnd(run, Duration.ofMinutes(1));
      assertEquals("SUCCEEDED", end.get("state").asText(), end.toString());

      // The reading client saw every attempt once, and the run's end.
      List<SseEvents.Event> all = reading.get(1, TimeUnit.MINUTES);
      var types = all.stream().map(SseEvents.Event::type).toList();
      assertFalse(types.contains("Dropped"), types.toString());
      assertEquals("RunEnded", types.get(types.size() - 1));
      var attempts = new HashSet<String>();
      for (SseEvents.Event e : all) {
        if (e.type().equals("AttemptEnded")) {
          assertTrue(attempts.add(e.data().get("task_id") + "/" + e.data().get("attempt")));
        }
      }
      assertEquals(end.get("tasks").get("succeeded").asInt(), attempts.size(), end.toString());

      // The stalled client, reading at last: what was sent before it fell behind, then Dropped
      // with the reason, then the end of the stream.
      RawEventClient.Response late = stalled.readToEnd(Duration.ofSeconds(30));
      assertEquals(200, late.status());
      assertTrue(late.complete(), "the stream ends with its last chunk");
      List<SseEvents.Event> seen = late.events();
      SseEvents.Event last = seen.get(seen.size() - 1);
      assertEquals("Dropped", last.type(), seen.toString());
      assertEquals(run, last.data().get("run_id").asLong());
      String reason = last.data().get("reason").asText();
      assertTrue(reason.matches("the client fell \\d+ events behind .*"), reason);
      assertTrue(seen.size() < all.size(), seen.size() + " of " + all.size());
      System.out.printf(
          "stalled client: %d events (%d bytes) before it was dropped; the reader got %d%n",
          seen.size() - 1, late.bytesRead(), all.size());
    }
    assertEquals(1, server.api.events().dropped());
    // Written only while writable: the connection never held much more than its high water mark.
    long peak = server.api.events().peakBufferedBytes();
    assertTrue(peak <= LIMITS.writeBufferBytes() + ONE_EVENT_BYTES, "peak " + peak);
    Wait.until(
        "both streams to close", Duration.ofSeconds(30), () -> server.api.events().open() == 0);
  }

  @Test
  void streamsBeyondTheLimitAreRefusedWithAJsonError() throws Exception {
    Path gate = dir.resolve("gate");
    long run =
        server.submit(
            "gated",
            "[[step]]\nname = \"wait\"\nscript = \"while [ ! -e %s ]; do sleep 0.02; done\"\n"
                .formatted(gate));
    String path = "/v1/runs/" + run + "/events";
    var held = new ArrayList<RawEventClient>();
    try {
      for (int i = 0; i < LIMITS.maxStreams(); i++) {
        var client = new RawEventClient(server, path, 64 * 1024);
        held.add(client);
        assertEquals(200, client.status(Duration.ofSeconds(10)));
      }
      assertEquals(LIMITS.maxStreams(), server.api.events().open());

      var refused = server.get(path);
      assertEquals(503, refused.statusCode(), refused.body());
      JsonNode error = TestServer.json(refused);
      assertEquals("too many event streams", error.get("error").asText(), refused.body());
      assertTrue(error.get("detail").asText().contains("at most 4"), refused.body());

      // A stream that closes frees its place.
      held.remove(0).close();
      Wait.until(
          "the closed stream to be counted out",
          Duration.ofSeconds(30),
          () -> server.api.events().open() == LIMITS.maxStreams() - 1);
      var again = new RawEventClient(server, path, 64 * 1024);
      held.add(again);
      assertEquals(200, again.status(Duration.ofSeconds(10)));

      Files.createFile(gate);
      for (RawEventClient c : held) {
        List<SseEvents.Event> events = c.readToEnd(Duration.ofSeconds(30)).events();
        assertEquals("RunEnded", events.get(events.size() - 1).type(), events.toString());
      }
    } finally {
      for (RawEventClient c : held) {
        c.close();
      }
    }
  }

  private CompletableFuture<HttpResponse<Stream<String>>> subscribe(long run) {
    return server
        .http()
        .sendAsync(
            server.request("/v1/runs/" + run + "/events").build(),
            HttpResponse.BodyHandlers.ofLines());
  }
}
