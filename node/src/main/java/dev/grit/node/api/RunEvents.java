package dev.grit.node.api;

import dev.grit.consensus.state.StateEvent;
import dev.grit.node.Node;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAccumulator;

/**
 * {@code GET /v1/runs/{id}/events}: a run's events as server-sent events, one per {@link
 * StateEvent} about the run ({@code event: AttemptEnded}, {@code data: {...}}), until its {@code
 * RunEnded}, after which the stream closes. A stream starts with the attempts of the run that ended
 * before the client connected, rebuilt from the record, so a watcher that connects late (or
 * reconnects) misses nothing; each attempt is told once per stream. A run that already ended gets
 * its history and its {@code RunEnded} at once. Every member applies every entry, so any member
 * serves this.
 *
 * <p>A client that falls further behind than {@link EventStreamLimits} allow gets {@code event:
 * Dropped} with {@code {"reason": ...}} and its stream ends (see {@link RunEventStream}); it may
 * reconnect. A node serves at most {@link EventStreamLimits#maxStreams()} streams at once and
 * answers more with 503, so another member may serve them.
 */
final class RunEvents {
  private final Node node;
  private final Duration heartbeat;
  private final EventStreamLimits limits;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final LongAccumulator peakBuffered = new LongAccumulator(Math::max, 0);

  RunEvents(Node node, Duration heartbeat, EventStreamLimits limits) {
    this.node = node;
    this.heartbeat = heartbeat;
    this.limits = limits;
  }

  void stream(Exchange ex) {
    long id = ex.id("id");
    node.queries().run(id).orElseThrow(() -> RunsResource.noRun(id));
    if (open.incrementAndGet() > limits.maxStreams()) {
      open.decrementAndGet();
      throw ApiException.unavailable(
          "too many event streams",
          "this node serves at most "
              + limits.maxStreams()
              + " at once; try again later or ask another node");
    }
    if (!ex.claim()) {
      open.decrementAndGet();
      return;
    }
    // One stream per connection: it closes when the stream ends.
    ex.ctx().channel().closeFuture().addListener(f -> open.decrementAndGet());
    new RunEventStream(this, node, ex.ctx(), ex.executor(), id, limits, heartbeat).open();
  }

  /** Event streams open now. */
  int open() {
    return open.get();
  }

  /** Event streams dropped because their client fell behind, since the server started. */
  long dropped() {
    return dropped.get();
  }

  /**
   * The most bytes any stream's connection held for its client right after a write, since the
   * server started: the write buffer's high water mark plus at most one event, if streams write
   * only while their channel is writable.
   */
  long peakBufferedBytes() {
    return peakBuffered.get();
  }

  void countDrop() {
    dropped.incrementAndGet();
  }

  void sawBuffered(long bytes) {
    peakBuffered.accumulate(bytes);
  }
}
