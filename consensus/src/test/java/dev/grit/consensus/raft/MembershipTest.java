package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A member that lost its disk leaves the group before its server starts. */
class MembershipTest {
  @Test
  void aMemberTheLeaderBelievesHeldEntriesLeavesBeforeItStartsAndThenIsNoMember()
      throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          c.awaitConverged();
          int follower = c.followers().get(0);
          RaftNode.Peer lost = c.peers().get(follower);
          c.kill(follower);

          assertTrue(
              Membership.leaveIfDiskWasLost(
                  MiniCluster.CLUSTER_NAME, lost, c.peers(), c.tls(follower)));
          Wait.until(
              "the group without " + lost.id(),
              Duration.ofSeconds(30),
              () -> !isMember(c, lost.id()),
              c::describe);
          // No member any more: nothing to leave.
          assertFalse(
              Membership.leaveIfDiskWasLost(
                  MiniCluster.CLUSTER_NAME, lost, c.peers(), c.tls(follower)));
        });
  }

  private static boolean isMember(MiniCluster c, String id) {
    try {
      return c.leader().membership().members().stream().anyMatch(p -> p.id().equals(id));
    } catch (IOException e) {
      return true; // not known yet
    }
  }

  @Test
  void withNoLeaderAnsweringNothingIsLeft() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          c.awaitConverged();
          c.kill(0, 1, 2);
          assertFalse(
              Membership.leaveIfDiskWasLost(
                  MiniCluster.CLUSTER_NAME, c.peers().get(0), c.peers(), c.tls(0)));
        });
  }
}
