package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.Wait;
import dev.grit.node.api.EventStreamLimits;
import dev.grit.node.api.TestServer;
import dev.grit.node.testing.Grit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit watch} against a node that drops it for falling behind: it reconnects and prints
 * every attempt exactly once. The node lets one event wait per stream, so every applied entry that
 * tells a stream two events at once drops it, as the entry that ends the run does (the last
 * attempt and the run's end) when the watcher is connected then: the watcher must open one more
 * stream to print that last attempt.
 */
class WatchReconnectTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server =
        new TestServer(dir.resolve("node"), new EventStreamLimits(8, 1, 1024 * 1024, 64 * 1024, 0));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void aDroppedWatcherReconnectsAndPrintsEachAttemptOnce() throws Exception {
    Path gate = dir.resolve("gate");
    long run =
        server.submit(
            "fan",
            """
            [[step]]
            name = "fan"
            script = '''
            while [ ! -e %s ]; do sleep 0.02; done
            for i in 1 2 3 4 5 6; do echo $i > $OUTPUT_DIR/part-$i; done
            '''

            [[step]]
            name = "use"
            inputs = ["part-*"]
            script = "cat $INPUT_FILE > $OUTPUT_DIR/used-$GRIT_INPUT_NAME"
            """
                .formatted(gate));
    var grit = server.grit(dir);
    var watching =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return grit.run("watch", String.valueOf(run), "--server", server.url());
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            },
            r -> new Thread(r, "grit-watch").start());
    Wait.until(
        "the watcher to connect", Duration.ofSeconds(60), () -> metric("grit_event_streams") == 1);
    Files.createFile(gate);

    Grit.Result watched = watching.get(2, TimeUnit.MINUTES);
    assertEquals(0, watched.exit(), watched::toString);
    assertTrue(metric("grit_event_streams_dropped_total") >= 1, "the watcher was never dropped");
    // Every task's line, once: one "fan" and six "use".
    Matcher m = Pattern.compile("✓ (\\w+) #(\\d+)").matcher(watched.out());
    var lines = new TreeMap<String, Integer>();
    while (m.find()) {
      lines.merge(m.group(1) + " #" + m.group(2), 1, Integer::sum);
    }
    assertEquals(7, lines.size(), watched::toString);
    lines.forEach((task, n) -> assertEquals(1, n, task + "\n" + watched));
    assertEquals(1, lines.keySet().stream().filter(t -> t.startsWith("fan")).count());
    assertTrue(
        watched.out().contains("run " + run + " succeeded: 7 tasks succeeded"), watched::toString);
  }

  /** A metric without labels, read from the node's /metrics. */
  private static double metric(String name) {
    try {
      String text = server.get("/metrics").body();
      Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(text);
      if (!m.find()) {
        throw new AssertionError("no metric " + name + " in\n" + text);
      }
      return Double.parseDouble(m.group(1));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
