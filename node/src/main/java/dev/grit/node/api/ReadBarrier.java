package dev.grit.node.api;

import dev.grit.consensus.raft.RaftNode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a GET with {@code ?consistent=true} waits for before it reads the local record.
 *
 * <p>A best-effort read barrier, not a linearizable read: it waits until this member has applied
 * the commit index it knows of ({@link RaftNode#commitIndex()}), which on the leader is the group's
 * commit index and on a follower may trail it by a heartbeat. A read after a write this client saw
 * acknowledged therefore sees that write on the leader, and on a follower once the follower has
 * heard of the commit. A proper Raft ReadIndex (ask the leader for its commit index, confirmed by a
 * heartbeat round) replaces {@link #await()} later; callers do not change.
 *
 * <p>Thread-safe; never blocks the caller: the wait polls on {@code timer}.
 */
final class ReadBarrier {
  private static final long POLL_MILLIS = 5;

  private final RaftNode raft;
  private final ScheduledExecutorService timer;
  private final Duration limit;

  ReadBarrier(RaftNode raft, ScheduledExecutorService timer, Duration limit) {
    this.raft = raft;
    this.timer = timer;
    this.limit = limit;
  }

  /** Completes once the local record is as recent as the barrier promises, or fails with a 503. */
  CompletableFuture<Void> await() {
    var done = new CompletableFuture<Void>();
    if (raft.leaderId() == null) {
      done.completeExceptionally(
          ApiException.unavailable("no Raft leader known", "a consistent read needs a leader"));
      return done;
    }
    long target = raft.commitIndex();
    long deadline = System.nanoTime() + limit.toNanos();
    poll(done, target, deadline);
    return done;
  }

  private void poll(CompletableFuture<Void> done, long target, long deadline) {
    if (raft.lastAppliedIndex() >= target) {
      done.complete(null);
    } else if (System.nanoTime() > deadline) {
      done.completeExceptionally(
          ApiException.unavailable(
              "read barrier timed out",
              "applied index " + raft.lastAppliedIndex() + " did not reach " + target));
    } else {
      timer.schedule(() -> poll(done, target, deadline), POLL_MILLIS, TimeUnit.MILLISECONDS);
    }
  }
}
