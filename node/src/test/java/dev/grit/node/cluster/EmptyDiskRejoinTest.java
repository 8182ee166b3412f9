package dev.grit.node.cluster;

import static dev.grit.node.cluster.ClusterRunTest.awaitEnd;
import static dev.grit.node.cluster.ClusterRunTest.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.Node;
import dev.grit.node.testing.NodeCluster;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A member restarted with an empty data directory rejoins and gets the whole record and bytes. */
@Tag("slow")
class EmptyDiskRejoinTest {
  @TempDir Path dir;

  @Test
  void aMemberThatLostItsDiskRejoinsAndServesEveryObject() throws Exception {
    try (var cluster = NodeCluster.start(dir, 3, 2)) {
      int leader = cluster.leader();
      long run = submit(cluster.node(leader), ClusterRunTest.MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(leader), run), cluster::describe);
      int wiped = (leader + 1) % 3;
      Wait.until(
          cluster.id(wiped) + " to apply the run",
          Duration.ofSeconds(30),
          () -> cluster.node(wiped).queries().run(run).map(r -> r.state().isFinal()).orElse(false));

      cluster.wipeAndRestart(wiped);
      Node back = cluster.node(wiped);
      Node lead = cluster.node(cluster.leader());
      long commit = lead.raft().commitIndex();
      Wait.until(
          cluster.id(wiped) + " to catch up",
          Duration.ofSeconds(90),
          () -> back.raft().lastAppliedIndex() >= commit,
          cluster::describe);
      assertEquals(ClusterRunTest.resourceSet(lead), ClusterRunTest.resourceSet(back));
      Wait.until(
          "every chunk on " + cluster.id(wiped),
          Duration.ofSeconds(60),
          () -> back.queries().allChunks().stream().allMatch(back.chunks()::has));
      for (var r : back.queries().resources("fan")) {
        assertEquals(r.hash(), ReplicationTest.digestOn(back, r.hash()), r.name());
      }
      // And it takes part again: a new run completes with all three members.
      long next = submit(back, ClusterRunTest.MANIFEST.replace("line $i", "again $i"));
      assertEquals(RunState.SUCCEEDED, awaitEnd(back, next), cluster::describe);
      assertTrue(cluster.fatal.calls().isEmpty(), cluster.fatal.calls().toString());
    }
  }
}
