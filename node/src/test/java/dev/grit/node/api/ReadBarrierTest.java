package dev.grit.node.api;

import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * The read barrier on a member whose record lags its log: a consistent read fails with a 503 at
 * its limit, while the wait of a write's reply for its entry's apply ends at the limit all the
 * same (the entry is committed; what it did holds).
 */
class ReadBarrierTest {

  @Test
  void aLaggingRecordFailsAConsistentReadButEndsAWritesWaitAtTheLimit() throws Exception {
    var timer = Executors.newSingleThreadScheduledExecutor();
    try {
      MiniCluster.runWithNewCluster(
          1,
          c -> {
            RaftNode raft = c.node(0);
            var barrier = new ReadBarrier(raft, timer, Duration.ofMillis(300));
            try (var hold = c.holdApply(0)) {
              // The first submission's apply stops the apply thread; the second is committed
              // behind it and not applied.
              raft.submit(submit("r1", "pipe", 1000, step("gen", "x")));
              raft.submit(submit("r2", "other", 1000, step("gen", "y")));
              // Only once the apply thread stopped does the applied index stay behind the commit.
              hold.awaitHolding();
              Wait.until(
                  "an entry committed and not applied",
                  MiniCluster.TIMEOUT,
                  () -> raft.commitIndex() > raft.lastAppliedIndex(),
                  c::describe);
              long committed = raft.commitIndex();

              assertNull(barrier.awaitApplied(committed).get(30, SECONDS));
              assertTrue(raft.lastAppliedIndex() < committed, "the record caught up meanwhile");

              var refused = assertThrows(ExecutionException.class, () -> barrier.await().get(30, SECONDS));
              var unavailable = assertInstanceOf(ApiException.class, refused.getCause());
              assertEquals(HttpResponseStatus.SERVICE_UNAVAILABLE, unavailable.status());
            }
            // Released, the record catches up and the same read goes through.
            assertNull(barrier.await().get(30, SECONDS));
          });
    } finally {
      timer.shutdownNow();
    }
  }
}
