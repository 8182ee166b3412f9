package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics operators graph, read from a real node's {@code /metrics} after a run: queue depth
 * by state, attempt durations per step, apply lag, chunk repair backlog, stale reports and leader
 * changes; and the whole exposition passes {@code promtool check metrics} (Debian's {@code
 * prometheus} package; skipped where it is not installed).
 */
class MetricsTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
    long run =
        server.submit(
            "metered",
            """
            [[step]]
            name = "make"
            script = "echo a > $OUTPUT_DIR/a; echo b > $OUTPUT_DIR/b"

            [[step]]
            name = "use"
            inputs = ["a", "b"]
            script = "cat $INPUT_FILE > $OUTPUT_DIR/used_$GRIT_INPUT_NAME"
            """);
    server.awaitEnd(run, Duration.ofSeconds(60));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Map<String, Double> samples(String body) {
    var out = new HashMap<String, Double>();
    var line = Pattern.compile("([a-z_]+(\\{[^}]*\\})?) (\\S+)");
    for (String l : body.split("\n")) {
      if (!l.isBlank() && !l.startsWith("#")) {
        var m = line.matcher(l);
        assertTrue(m.matches(), "not a sample line: " + l);
        out.put(m.group(1), Double.parseDouble(m.group(3)));
      }
    }
    return out;
  }

  @Test
  void operatorsMetricsAreThere() throws Exception {
    String body = server.get("/metrics").body();
    Map<String, Double> s = samples(body);
    assertEquals(3.0, s.get("grit_tasks{state=\"succeeded\"}"), body);
    assertEquals(0.0, s.get("grit_tasks{state=\"pending\"}"), body);
    assertEquals(0.0, s.get("grit_tasks{state=\"assigned\"}"), body);
    assertEquals(1.0, s.get("grit_attempt_duration_seconds_count{step=\"make\"}"), body);
    assertEquals(2.0, s.get("grit_attempt_duration_seconds_count{step=\"use\"}"), body);
    assertTrue(s.get("grit_raft_apply_lag") >= 0, body);
    assertEquals(0.0, s.get("grit_chunk_repair_backlog"), body);
    assertEquals(0.0, s.get("grit_stale_reports_total"), body);
    assertTrue(s.get("grit_raft_leader_changes_total") >= 1, "it saw its first leader\n" + body);
  }

  @Test
  void theExpositionPassesPromtool() throws Exception {
    Path promtool = Path.of("/usr/bin/promtool");
    assumeTrue(Files.isExecutable(promtool), "promtool (Debian package prometheus) not installed");
    Path scraped = dir.resolve("metrics.txt");
    Files.writeString(scraped, server.get("/metrics").body());
    Process p =
        new ProcessBuilder(promtool.toString(), "check", "metrics")
            .redirectInput(scraped.toFile())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out);
    assertEquals("", out.strip(), "no lint findings");
  }
}
