package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateQueries.ResourceRow;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.object.Digest;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.testing.NodeCluster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run proposed through any member runs on the followers and ends the same everywhere. */
class ClusterRunTest {
  static final String MANIFEST =
      """
      name = "fan"

      [[step]]
      name = "split"
      script = "for i in $(seq 1 24); do echo line $i > $OUTPUT_DIR/part_$i; done"

      [[step]]
      name = "upper"
      inputs = ["part_*"]
      script = "tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/upper"

      [[step]]
      name = "count"
      inputs = ["upper"]
      script = "wc -c < $INPUT_FILE > $OUTPUT_DIR/size"
      """;

  @TempDir Path dir;

  static long submit(Node via, String text) throws Exception {
    var manifest = ManifestParser.parse("fan.toml", text, "fan");
    return via.raft()
            .submit(
                new SubmitRun(
                    UUID.randomUUID().toString(),
                    manifest.name(),
                    "fan.toml",
                    text,
                    manifest.steps(),
                    System.currentTimeMillis(),
                    null,
                    List.of(),
                    0))
        .get(30, TimeUnit.SECONDS)
        .as(RunSubmitted.class)
        .runId();
  }

  static RunState awaitEnd(Node node, long run) {
    Wait.until(
        "run " + run + " to end",
        Duration.ofSeconds(90),
        () -> node.queries().run(run).map(r -> r.state().isFinal()).orElse(false));
    return node.queries().run(run).orElseThrow().state();
  }

  static byte[] read(Node node, Digest hash) throws IOException {
    var layout = node.queries().object(hash).orElseThrow();
    var out = new ByteArrayOutputStream();
    try (var in = node.chunks().open(layout)) {
      in.transferTo(out);
    }
    return out.toByteArray();
  }

  static Set<String> resourceSet(Node node) {
    var set = new HashSet<String>();
    for (ResourceRow r : node.queries().resources("fan")) {
      set.add(r.name() + "=" + r.hash());
    }
    return set;
  }

  @Test
  void runThroughAFollowerExecutesOnFollowersAndReplicatesEverywhere() throws Exception {
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      int follower = cluster.follower();
      long run = submit(cluster.node(follower), MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(follower), run), cluster::describe);

      int leader = cluster.leader();
      Node any = cluster.node(follower);
      var ranOn = new HashSet<String>();
      for (long task = 1; task <= 49; task++) {
        for (var attempt : any.queries().attempts(task)) {
          ranOn.add(attempt.node());
        }
      }
      assertTrue(!ranOn.isEmpty() && !ranOn.contains(cluster.id(leader)), "ran on " + ranOn);

      // Every member applied the same record and stores every object.
      Set<String> expected = resourceSet(any);
      // 24 parts, 24 upper-cased (distinct bytes), and the sizes (all equal bytes: one or two).
      assertTrue(expected.size() >= 49, expected.toString());
      for (int i = 0; i < cluster.size(); i++) {
        Node node = cluster.node(i);
        Wait.until(
            cluster.id(i) + " to apply the run",
            Duration.ofSeconds(30),
            () -> node.queries().run(run).map(r -> r.state().isFinal()).orElse(false));
        assertEquals(expected, resourceSet(node), cluster.id(i));
        for (ResourceRow r : node.queries().resources("fan")) {
          assertEquals(r.hash(), Digest.of(read(node, r.hash())), cluster.id(i) + " " + r.name());
        }
      }
      assertTrue(cluster.fatal.calls().isEmpty(), cluster.fatal.calls().toString());

      // The embedded node runs the same manifest to the same resources.
      try (var embedded =
          Node.start(
              NodeConfig.embedded(dir.resolve("embedded"), Ports.take(), 2),
              InstantSource.system(),
              cluster.fatal)) {
        long single = submit(embedded, MANIFEST);
        assertEquals(RunState.SUCCEEDED, awaitEnd(embedded, single));
        assertEquals(expected, resourceSet(embedded));
      }
    }
  }

  @Test
  void attemptsOfAStoppedFollowerAreExpiredAndRunElsewhere() throws Exception {
    try (var cluster = NodeCluster.start(dir.resolve("lost"), 3, 2, Duration.ofSeconds(2))) {
      int leader = cluster.leader();
      int gone = (leader + 1) % 3;
      cluster.kill(gone);
      // Until the leader has not heard from it for the node timeout, the stopped follower still
      // counts as live and is given attempts: they must be expired and run elsewhere.
      long run = submit(cluster.node(leader), MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(leader), run), cluster::describe);
      var succeededOn = new HashSet<String>();
      int lost = 0;
      for (long task = 1; task <= 49; task++) {
        int succeeded = 0;
        for (var attempt : cluster.node(leader).queries().attempts(task)) {
          if (attempt.outcome() == AttemptOutcome.SUCCEEDED) {
            succeeded++;
            succeededOn.add(attempt.node());
          } else if (attempt.node().equals(cluster.id(gone))) {
            assertEquals(AttemptOutcome.LOST, attempt.outcome());
            lost++;
          }
        }
        assertEquals(1, succeeded, "task " + task + " must have exactly one successful attempt");
      }
      assertTrue(!succeededOn.contains(cluster.id(gone)), "a stopped node succeeded: " + succeededOn);
      System.out.printf("%d attempts given to the stopped node were expired%n", lost);
    }
  }

}
