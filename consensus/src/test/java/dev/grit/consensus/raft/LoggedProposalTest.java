package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.engine.command.RegisterNode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A proposal tells the index of its entry, whichever member sent it: what the HTTP API waits for
 * before it answers, so the member asked next already knows what was done.
 */
class LoggedProposalTest {
  private static final long WAIT = MiniCluster.TIMEOUT.toSeconds();

  @Test
  void aProposalTellsTheIndexOfItsEntryFromLeaderAndFollower() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          RaftNode leader = c.leader();
          RaftNode follower = c.node(c.followers().get(0));

          RaftNode.Logged first =
              leader.propose(new RegisterNode("logged-a", "", 1, 1)).get(WAIT, TimeUnit.SECONDS);
          RaftNode.Logged second =
              follower.propose(new RegisterNode("logged-b", "", 1, 2)).get(WAIT, TimeUnit.SECONDS);

          assertTrue(first.index() > 0, "index " + first.index());
          assertTrue(second.index() > first.index(), first.index() + " then " + second.index());
          assertTrue(
              leader.lastAppliedIndex() >= first.index(),
              "the leader replied before applying " + first.index());
          // A member that has applied up to the index holds the command's effect.
          c.awaitApplied(second.index());
          for (int i = 0; i < c.size(); i++) {
            assertTrue(c.dump(i).contains("logged-b"), "member " + i + " lacks node b at " + second.index());
          }
        });
  }
}
