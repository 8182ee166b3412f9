package dev.grit.node.api;

import dev.grit.consensus.raft.RaftNode;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a GET with {@code ?consistent=true} waits for before it reads the local record: a
 * linearizable read. It asks the group for a read point (Raft ReadIndex, {@link
 * RaftNode#readIndex()}), which includes every entry committed before the request, then waits
 * until this member has applied up to it, so the read sees every write acknowledged before it.
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
    long deadline = System.nanoTime() + limit.toNanos();
    raft.readIndex()
        .orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete(
            (target, error) -> {
              if (error != null) {
                done.completeExceptionally(
                    ApiException.unavailable("no read index from the group", error.toString()));
              } else {
                poll(done, target, deadline);
              }
            });
    return done;
  }

  /**
   * Completes once this member has applied the entry at {@code index}, or once the limit has
   * passed all the same: the entry is committed, so what it did holds whether or not this member
   * has caught up yet (a later consistent read waits for it).
   */
  CompletableFuture<Void> awaitApplied(long index) {
    var done = new CompletableFuture<Void>();
    long deadline = System.nanoTime() + limit.toNanos();
    poll(done, index, deadline);
    return done.exceptionally(behind -> null);
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
