package dev.grit.consensus.raft;

import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A member that lost its disk leaves the group and joins it again, and then takes its full part. */
class RejoinTest {

  @Test
  void aWipedFollowerRejoinsCatchesUpAndCanLeadAgain() throws Exception {
    MiniCluster.runWithNewCluster(3, c -> wipeAndRejoin(c, wiped -> {}));
  }

  /**
   * Out of the group between its leave and its add, the member hears no heartbeats: here its
   * election timer runs out before the add is sent. Were it to stand for election then, the
   * leader would tell it to shut down, and the add would never complete.
   */
  @Test
  void aWipedFollowerWhoseElectionTimerRunsOutBeforeItIsAddedBackRejoins() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c ->
            wipeAndRejoin(
                c,
                wiped ->
                    Wait.until(
                        "its election timer to run out (or its server to close)",
                        MiniCluster.TIMEOUT,
                        () -> isCandidateOrClosed(c.node(wiped)),
                        c::describe)));
  }

  private static void wipeAndRejoin(MiniCluster c, BetweenLeaveAndAdd gap) throws Exception {
    for (int i = 0; i < 5; i++) {
      c.leader().submit(submit("r" + i, "pipe", 1000 + i, step("gen", "x"))).get(60, SECONDS);
    }
    c.awaitConverged();
    int wiped = c.followers().get(0);
    List<RaftNode.Peer> before = c.node(c.leaderIndex()).membership().members();

    c.wipeAndRestart(wiped);
    Wait.until(
        "the wiped member to hear from the leader",
        MiniCluster.TIMEOUT,
        () -> c.node(wiped).leaderId() != null,
        c::describe);
    Membership membership = c.node(wiped).membership();
    membership.betweenLeaveAndAdd = () -> gap.pass(wiped);
    assertTrue(membership.rejoinIfDiskWasLost(), c::describe);

    c.awaitConverged();
    assertEquals(c.dump(c.leaderIndex()), c.dump(wiped));
    assertEquals(before, c.node(c.leaderIndex()).membership().members());
    // Its elections were paused only while it rejoined: it can lead.
    c.transferLeadership(wiped);
    // A member whose log is whole does not rejoin.
    assertFalse(c.node(c.followers().get(0)).membership().rejoinIfDiskWasLost());
  }

  private static boolean isCandidateOrClosed(RaftNode node) {
    try {
      var info = node.division().getInfo();
      return info.isCandidate() || !info.isAlive();
    } catch (IOException e) {
      return true; // the division is gone
    }
  }

  private interface BetweenLeaveAndAdd {
    void pass(int wiped);
  }
}
