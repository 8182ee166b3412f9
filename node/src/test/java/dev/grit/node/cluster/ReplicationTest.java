package dev.grit.node.cluster;

import static dev.grit.node.cluster.ClusterRunTest.awaitEnd;
import static dev.grit.node.cluster.ClusterRunTest.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.node.Node;
import dev.grit.node.testing.NodeCluster;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Object bytes reach every member, through the log or, for a member that lagged, from it. */
@Tag("slow")
class ReplicationTest {
  @TempDir Path dir;

  /** Reads the object through the member's store, verifying as it goes; returns its digest. */
  static Digest digestOn(Node node, Digest hash) throws Exception {
    var layout = node.queries().object(hash).orElseThrow();
    MessageDigest sha = Digest.newSha256();
    byte[] buf = new byte[1 << 16];
    try (InputStream in = node.chunks().open(layout)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        sha.update(buf, 0, n);
      }
    }
    return Digest.of(sha);
  }

  @Test
  void aHundredMebibyteOutputIsStoredOnEveryMember() throws Exception {
    try (var cluster = NodeCluster.start(dir, 3, 1)) {
      long run =
          submit(
              cluster.node(cluster.follower()),
              """
              name = "fan"
              [[step]]
              name = "big"
              script = "head -c 104857600 /dev/urandom > $OUTPUT_DIR/big"
              """);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(cluster.leader()), run), cluster::describe);
      var big = cluster.node(cluster.leader()).queries().resourcesNamed("big", "fan").get(0);
      assertEquals(104_857_600L, big.size());
      var layout = cluster.node(cluster.leader()).queries().object(big.hash()).orElseThrow();
      assertEquals(104_857_600 / ChunkingHasher.CHUNK_SIZE, layout.chunks().size());
      for (int i = 0; i < cluster.size(); i++) {
        Node node = cluster.node(i);
        Wait.until(
            cluster.id(i) + " to know the object",
            Duration.ofSeconds(30),
            () -> node.queries().object(big.hash()).isPresent());
        assertEquals(big.hash(), digestOn(node, big.hash()), cluster.id(i));
      }
    }
  }

  @Test
  void aStoppedFollowerCatchesUpFromTheLog() throws Exception {
    try (var cluster = NodeCluster.start(dir, 3, 2)) {
      int leader = cluster.leader();
      int lagging = (leader + 1) % 3;
      cluster.kill(lagging);
      long run = submit(cluster.node(leader), ClusterRunTest.MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(leader), run), cluster::describe);
      long commit = cluster.node(leader).raft().commitIndex();

      cluster.restart(lagging);
      Node back = cluster.node(lagging);
      Wait.until(
          cluster.id(lagging) + " to catch up",
          Duration.ofSeconds(60),
          () -> back.raft().lastAppliedIndex() >= commit,
          cluster::describe);
      assertEquals(
          ClusterRunTest.resourceSet(cluster.node(leader)), ClusterRunTest.resourceSet(back));
      for (var r : back.queries().resources("fan")) {
        assertEquals(r.hash(), digestOn(back, r.hash()), r.name());
      }
      assertTrue(cluster.fatal.calls().isEmpty(), cluster.fatal.calls().toString());
    }
  }
}
