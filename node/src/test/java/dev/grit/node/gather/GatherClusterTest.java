package dev.grit.node.gather;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.NodeProcesses;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gather task on three real {@code grit node} processes: every input is made on one node, the
 * gather starts there, that node is killed ({@code kill -9}) mid-gather, and another node, which
 * made none of the inputs, gathers the same set to the same total. The killed node comes back
 * with the record, bytes and lineage of every other.
 */
@Tag("slow")
class GatherClusterTest {
  private static final int PARTS = 8;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void aGatherOverInputsFromOtherNodesSurvivesTheKillOfItsNode() throws Exception {
    Path gate = dir.resolve("gate");
    Path manifest = dir.resolve("cluster-sum.toml");
    Files.writeString(
        manifest,
        """
        name = "csum"

        [[step]]
        name = "make"
        script = "for i in $(seq 1 %1$d); do echo $i > $OUTPUT_DIR/part_$i; done"

        [[step]]
        name = "square"
        inputs = ["part_*"]
        script = '''
        mkdir -p $OUTPUT_DIR/squares
        n=$(cat $INPUT_FILE)
        echo $((n * n)) > $OUTPUT_DIR/squares/$GRIT_INPUT_NAME
        '''

        [[step]]
        name = "sum"
        inputs = ["squares/*"]
        gather = true
        script = '''
        test -z "$INPUT_FILE" || exit 9
        while [ ! -e %2$s ]; do sleep 0.05; done
        cut -f3 "$INPUT_LIST" | xargs cat | awk '{ s += $1 } END { print s }' > $OUTPUT_DIR/sum
        '''
        """
            .formatted(PARTS, gate));
    try (var cluster = NodeProcesses.start(dir.resolve("cluster"), 3, "--node-timeout", "3")) {
      var grit = cluster.grit(dir);
      // Who runs what is arranged: one follower is frozen, so the inputs are made on the other
      // (the leader takes work only when no follower may), and the gather starts there too; that
      // node is killed mid-gather, and another, which made none of them, gathers them.
      int leader = stableLeader(cluster);
      int frozen = (leader + 2) % 3;
      cluster.sigstop(frozen);
      Wait.until(
          "the leader to count " + cluster.id(frozen) + " out",
          Duration.ofSeconds(30),
          () -> !live(cluster, leader, cluster.id(frozen)));
      int[] up = {leader, (leader + 1) % 3};
      String servers = cluster.url(up[0]) + "," + cluster.url(up[1]);

      var submitted = grit.run("submit", manifest.toString(), "--server", servers);
      assertEquals(0, submitted.exit(), submitted::toString);
      long run = Long.parseLong(submitted.out().strip());
      long[] found = new long[2];
      Wait.until(
          "the gather task to run",
          Duration.ofSeconds(90),
          () -> {
            for (int i : up) {
              for (var script : cluster.runningScripts(i)) {
                JsonNode task = task(cluster, up, script.task());
                if (task != null && task.path("step").asText().equals("sum")) {
                  found[0] = i;
                  found[1] = script.task();
                  return true;
                }
              }
            }
            return false;
          },
          () -> cluster.tail(up[0]) + "\n" + cluster.tail(up[1]));
      int runner = (int) found[0];
      long gatherTask = found[1];
      JsonNode gather = task(cluster, up, gatherTask);
      assertEquals(PARTS, gather.path("inputs").size(), gather.toString());
      var madeOn = new java.util.ArrayList<String>();
      for (JsonNode input : gather.path("inputs")) {
        JsonNode lineage =
            json(cluster.get(runner, "/v1/resources/" + input.path("hash").asText() + "/lineage?depth=1"));
        long producer = lineage.path("tasks").get(0).path("id").asLong();
        for (JsonNode attempt : task(cluster, up, producer).path("attempts")) {
          if (attempt.path("outcome").asText().equals("SUCCEEDED")) {
            madeOn.add(attempt.path("node").asText());
          }
        }
      }

      cluster.sigcont(frozen);
      cluster.kill9(runner);
      Files.createFile(gate);
      int[] alive = {frozen, up[0] == runner ? up[1] : up[0]};
      Wait.until(
          "the run to end without " + cluster.id(runner),
          Duration.ofSeconds(120),
          () -> {
            JsonNode view = runView(cluster, alive, run);
            return view != null && !view.path("state").asText().equals("RUNNING");
          },
          () -> cluster.tail(alive[0]) + "\n" + cluster.tail(alive[1]));
      assertEquals("SUCCEEDED", runView(cluster, alive, run).path("state").asText());
      JsonNode attempts = task(cluster, alive, gatherTask).path("attempts");
      boolean lostOnRunner = false;
      for (JsonNode attempt : attempts) {
        lostOnRunner |=
            attempt.path("outcome").asText().equals("LOST")
                && attempt.path("node").asText().equals(cluster.id(runner));
      }
      assertTrue(lostOnRunner, "the killed node's attempt was lost: " + attempts);
      JsonNode last = attempts.get(attempts.size() - 1);
      assertEquals("SUCCEEDED", last.path("outcome").asText(), attempts.toString());
      String gatheredOn = last.path("node").asText();
      assertTrue(!gatheredOn.equals(cluster.id(runner)), attempts.toString());
      assertTrue(
          madeOn.stream().anyMatch(node -> !node.equals(gatheredOn)),
          "inputs made on " + madeOn + ", gathered on " + gatheredOn);

      int expected = 0;
      for (int i = 1; i <= PARTS; i++) {
        expected += i * i;
      }
      var export =
          grit.run("export", "sum", "--server", cluster.url(alive[0]) + "," + cluster.url(alive[1]));
      assertEquals(0, export.exit(), export::toString);
      String hash = export.out().split("\t")[0];
      for (int i : alive) {
        assertEquals(expected + "\n", new String(cluster.get(i, "/v1/objects/" + hash), StandardCharsets.UTF_8));
      }

      // The killed node returns with the same sum and the same lineage as every other.
      cluster.start(runner);
      Wait.until(
          cluster.id(runner) + " to know the run ended",
          Duration.ofSeconds(60),
          () -> {
            JsonNode view = runView(cluster, new int[] {runner}, run);
            return view != null && view.path("state").asText().equals("SUCCEEDED");
          });
      assertEquals(
          expected + "\n", new String(cluster.get(runner, "/v1/objects/" + hash), StandardCharsets.UTF_8));
      JsonNode lineage = json(cluster.get(alive[0], "/v1/resources/sum/lineage"));
      assertEquals(PARTS, lineage.path("tasks").get(0).path("inputs").size(), lineage.toString());
      for (int i = 0; i < 3; i++) {
        assertEquals(lineage, json(cluster.get(i, "/v1/resources/sum/lineage")), cluster.id(i));
      }
    }
  }

  /** The leader, once every member names the same one (elections at start-up have settled). */
  private static int stableLeader(NodeProcesses cluster) {
    String[] agreed = new String[1];
    Wait.until(
        "the members to agree on a leader",
        Duration.ofSeconds(60),
        () -> {
          var named = new java.util.HashSet<String>();
          for (int i = 0; i < cluster.size(); i++) {
            try {
              named.add(json(cluster.get(i, "/v1/cluster")).path("leader").asText());
            } catch (Exception | AssertionError e) {
              return false;
            }
          }
          agreed[0] = named.iterator().next();
          return named.size() == 1 && !agreed[0].equals("null");
        });
    for (int i = 0; i < cluster.size(); i++) {
      if (cluster.id(i).equals(agreed[0])) {
        return i;
      }
    }
    throw new AssertionError("no member " + agreed[0]);
  }

  /** Whether member {@code viewer} counts {@code id} live. */
  private static boolean live(NodeProcesses cluster, int viewer, String id) {
    try {
      for (JsonNode m : json(cluster.get(viewer, "/v1/cluster")).path("members")) {
        if (m.path("id").asText().equals(id)) {
          return m.path("live").asBoolean();
        }
      }
    } catch (Exception | AssertionError e) {
      // not answering: counted as live, so the wait goes on
    }
    return true;
  }

  private static JsonNode json(byte[] body) throws java.io.IOException {
    return JSON.readTree(body);
  }

  /** The task's view from the first of the members that knows it, or null. */
  private static JsonNode task(NodeProcesses cluster, int[] members, long id) {
    return read(cluster, members, "/v1/tasks/" + id);
  }

  private static JsonNode runView(NodeProcesses cluster, int[] members, long run) {
    return read(cluster, members, "/v1/runs/" + run);
  }

  private static JsonNode read(NodeProcesses cluster, int[] members, String path) {
    for (int i : members) {
      try {
        if (cluster.status(i, path) == 200) {
          return json(cluster.get(i, path));
        }
      } catch (Exception | AssertionError e) {
        // not answering: the next one
      }
    }
    return null;
  }
}
