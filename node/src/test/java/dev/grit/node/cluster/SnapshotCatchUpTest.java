package dev.grit.node.cluster;

import static dev.grit.node.cluster.ClusterRunTest.awaitEnd;
import static dev.grit.node.cluster.ClusterRunTest.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.Node;
import dev.grit.node.testing.NodeCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A member that missed more than the leader's log still holds catches up by installing a
 * snapshot, then fetches the chunks of the objects it lacks from its peers, by hash.
 */
@Tag("slow")
class SnapshotCatchUpTest {
  @TempDir Path dir;

  @BeforeEach
  void smallLog() {
    System.setProperty("grit.snapshot.every", "50");
    System.setProperty("grit.raft.segment.bytes", "16384");
  }

  @AfterEach
  void defaults() {
    System.clearProperty("grit.snapshot.every");
    System.clearProperty("grit.raft.segment.bytes");
  }

  @Test
  void aMemberBehindThePurgedLogInstallsASnapshotAndFetchesItsChunks() throws Exception {
    try (var cluster = NodeCluster.start(dir, 3, 2)) {
      int leader = cluster.leader();
      int lagging = (leader + 1) % 3;
      long behind = cluster.node(lagging).raft().lastAppliedIndex();
      cluster.kill(lagging);

      long run = submit(cluster.node(leader), ClusterRunTest.MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(leader), run), cluster::describe);
      Node lead = cluster.node(leader);
      // More runs, until the leader's log no longer holds what the stopped member lacks.
      for (int k = 0; k < 20 && lead.raft().logStartIndex() <= behind + 1; k++) {
        long more = submit(lead, ClusterRunTest.MANIFEST.replace("line $i", "line $i of " + k));
        assertEquals(RunState.SUCCEEDED, awaitEnd(lead, more), cluster::describe);
      }
      assertTrue(lead.raft().logStartIndex() > behind + 1, "the leader's log was not purged");
      long commit = lead.raft().commitIndex();

      var installed = new AtomicBoolean();
      cluster.restart(lagging);
      Node back = cluster.node(lagging);
      back.events()
          .subscribe(
              events -> events.forEach(e -> installed.compareAndSet(false, e instanceof StateEvent.SnapshotInstalled)));
      Wait.until(
          cluster.id(lagging) + " to catch up",
          Duration.ofSeconds(60),
          () -> back.raft().lastAppliedIndex() >= commit,
          cluster::describe);
      assertEquals(ClusterRunTest.resourceSet(lead), ClusterRunTest.resourceSet(back));
      // Every object becomes readable there: fetched from peers by hash, verified on read.
      Wait.until(
          "every chunk on " + cluster.id(lagging),
          Duration.ofSeconds(60),
          () -> back.queries().allChunks().stream().allMatch(back.chunks()::has));
      for (var r : back.queries().resources("fan")) {
        assertEquals(r.hash(), ReplicationTest.digestOn(back, r.hash()), r.name());
      }
      assertTrue(cluster.fatal.calls().isEmpty(), cluster.fatal.calls().toString());
    }
  }
}
