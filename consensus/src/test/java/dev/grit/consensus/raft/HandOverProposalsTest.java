package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.engine.command.RegisterNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Proposals in flight while leadership is handed over all succeed, whichever member sent them. */
class HandOverProposalsTest {
  @Test
  void proposalsInFlightDuringAHandOverAllSucceed() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          RaftNode oldLeader = c.leader();
          RaftNode follower = c.node(c.followers().get(1));
          int to = c.followers().get(0);
          var window = new Semaphore(32);
          List<CompletableFuture<Reply>> pending = new ArrayList<>();
          CompletableFuture<Void> handOver =
              CompletableFuture.runAsync(
                  () -> {
                    try {
                      c.transferLeadership(to);
                    } catch (IOException e) {
                      // Another member may win an election first: a leader change all the same.
                    }
                  });
          // Proposals from the old leader (handed to its server directly) and from a follower
          // (through the client), before, during and after the hand-over.
          int i = 0;
          while (!handOver.isDone() || i < 400) {
            window.acquire();
            RaftNode via = i % 2 == 0 ? oldLeader : follower;
            var f = via.submit(new RegisterNode("n" + (i % 8), "", 1, i));
            f.whenComplete((r, e) -> window.release());
            pending.add(f);
            i++;
          }
          handOver.get(MiniCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
          int failed = 0;
          Throwable first = null;
          for (var f : pending) {
            try {
              f.get(MiniCluster.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (ExecutionException e) {
              failed++;
              first = first == null ? e.getCause() : first;
            }
          }
          assertEquals(0, failed, failed + " of " + pending.size() + " proposals failed: " + first);
          assertTrue(c.node(c.leaderIndex()) != null);
          c.awaitConverged();
        });
  }
}
