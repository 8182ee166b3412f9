package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.NodeProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on a node that runs attempts: it exits 0, and its work finishes elsewhere long before
 * the node timeout would have given it back.
 */
@Tag("slow")
class GracefulShutdownTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  static JsonNode get(NodeProcesses cluster, int i, String path) throws Exception {
    return JSON.readTree(cluster.get(i, path));
  }

  /**
   * The answer, or a missing node while member i cannot give one: it does not answer, or answers
   * 404 for what it has not applied yet (a member that lags after a leadership change).
   */
  static JsonNode poll(NodeProcesses cluster, int i, String path) {
    try {
      return get(cluster, i, path);
    } catch (Exception | AssertionError e) {
      return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
  }

  /** Submits a start step making {@code items} inputs, each worked on for {@code seconds}. */
  private long submitSlow(NodeProcesses cluster, int items, int seconds) throws Exception {
    Path manifest = dir.resolve("slow.toml");
    Files.writeString(
        manifest,
        """
        name = "slow"
        [[step]]
        name = "make"
        script = "for i in $(seq 1 %d); do echo $i > $OUTPUT_DIR/item_$i; done"
        [[step]]
        name = "work"
        inputs = ["item_*"]
        script = "sleep %d; cp $INPUT_FILE $OUTPUT_DIR/done"
        """
            .formatted(items, seconds));
    var submitted = cluster.grit(dir).run("submit", manifest.toString(), "--server", cluster.urls());
    assertEquals(0, submitted.exit(), submitted::toString);
    return Long.parseLong(submitted.out().replaceAll("(?s).*?(\\d+).*", "$1"));
  }

  /** Tasks 1 to {@code tasks} each have exactly one successful attempt on record. */
  private static void assertOneSuccessEach(NodeProcesses cluster, int member, int tasks)
      throws Exception {
    for (long task = 1; task <= tasks; task++) {
      int succeeded = 0;
      for (JsonNode a : get(cluster, member, "/v1/tasks/" + task).path("attempts")) {
        succeeded += "SUCCEEDED".equals(a.path("outcome").asText()) ? 1 : 0;
      }
      assertEquals(1, succeeded, "task " + task);
    }
  }

  @Test
  void aStoppedFollowerHandsItsWorkBack() throws Exception {
    try (var cluster =
        NodeProcesses.start(dir.resolve("cluster"), 3, "--node-timeout", "120", "--shutdown-grace", "1")) {
      long run = submitSlow(cluster, 12, 2);

      String leader = get(cluster, 0, "/v1/cluster").path("leader").asText();
      int leaderIndex = Integer.parseInt(leader.substring(1)) - 1;
      int follower = (leaderIndex + 1) % 3;
      int watcher = leaderIndex;
      String gone = cluster.id(follower);
      // Wait until the follower runs some of the run's attempts.
      Wait.until(
          gone + " to run attempts",
          Duration.ofSeconds(60),
          () -> {
            for (long task = 2; task <= 13; task++) {
              JsonNode t = poll(cluster, watcher, "/v1/tasks/" + task);
              if ("ASSIGNED".equals(t.path("state").asText()) && gone.equals(t.path("node").asText())) {
                return true;
              }
            }
            return false;
          });

      long stoppedAt = System.nanoTime();
      assertEquals(0, cluster.stop(follower), cluster.tail(follower));
      Wait.until(
          "run " + run + " to end",
          Duration.ofSeconds(60),
          () -> {
            String state = poll(cluster, watcher, "/v1/runs/" + run).path("state").asText();
            return !state.isEmpty() && !"RUNNING".equals(state);
          });
      double seconds = (System.nanoTime() - stoppedAt) / 1e9;
      assertEquals("SUCCEEDED", get(cluster, watcher, "/v1/runs/" + run).path("state").asText());
      assertTrue(seconds < 60, "the run took " + seconds + " s after the stop: work was not handed back");
      assertOneSuccessEach(cluster, watcher, 13);
      System.out.printf("run ended %.1f s after SIGTERM on %s%n", seconds, gone);
    }
  }

  @Test
  void aStoppedLeaderHandsLeadershipOverAndItsRunCompletes() throws Exception {
    try (var cluster =
        NodeProcesses.start(dir.resolve("cluster"), 3, "--node-timeout", "120", "--shutdown-grace", "5")) {
      long run = submitSlow(cluster, 8, 1);
      Wait.until(
          "the run to be under way",
          Duration.ofSeconds(60),
          () -> poll(cluster, 0, "/v1/runs/" + run).path("tasks").path("succeeded").asInt() >= 1);

      // Read the leader just before stopping it: on a loaded machine an election may have moved
      // leadership while the run got going.
      String leader = get(cluster, 0, "/v1/cluster").path("leader").asText();
      int leaderIndex = Integer.parseInt(leader.substring(1)) - 1;
      int watcher = (leaderIndex + 1) % 3;
      assertEquals(0, cluster.stop(leaderIndex), cluster.tail(leaderIndex));
      String log = cluster.tail(leaderIndex);
      assertTrue(log.contains(leader + " handed leadership to n"), log);
      Wait.until(
          "run " + run + " to end",
          Duration.ofSeconds(60),
          () -> {
            String state = poll(cluster, watcher, "/v1/runs/" + run).path("state").asText();
            return !state.isEmpty() && !state.equals("RUNNING");
          });
      assertEquals("SUCCEEDED", get(cluster, watcher, "/v1/runs/" + run).path("state").asText());
      String now = get(cluster, watcher, "/v1/cluster").path("leader").asText();
      assertTrue(!now.isEmpty() && !now.equals(leader), "leader now: " + now);
      assertOneSuccessEach(cluster, watcher, 9);
    }
  }

  @Test
  void theLastMemberOfAClusterStoppedOneByOneDoesNotWaitForAMajority() throws Exception {
    try (var cluster = NodeProcesses.start(dir.resolve("cluster"), 3, "--shutdown-grace", "1")) {
      assertEquals(0, cluster.stop(0), cluster.tail(0));
      assertEquals(0, cluster.stop(1), cluster.tail(1));

      // Alone, it cannot record that it stops: it says why rather than wait out the limit.
      assertEquals(0, cluster.stop(2), cluster.tail(2));
      String log = cluster.tail(2);
      assertTrue(log.contains("no majority to commit with"), log);
    }
  }
}
