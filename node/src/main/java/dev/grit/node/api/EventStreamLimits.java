package dev.grit.node.api;

/**
 * How many event streams ({@code GET /v1/runs/{id}/events}) a node serves at once, and how far
 * behind each may fall before it is dropped. A stream holds at most {@code maxQueuedEvents} events
 * (and about {@code maxQueuedBytes} of them) that arrived but were not yet written, plus what netty
 * buffers for the socket, which takes no more events above {@code writeBufferBytes}, plus the
 * kernel's send buffer; so a client that stops reading costs the node a bounded amount of memory.
 *
 * @param maxStreams event streams open at once on this node; more are answered 503
 * @param maxQueuedEvents events waiting for one client before it is dropped
 * @param maxQueuedBytes about how many bytes of events may wait for one client (one event always
 *     may, however large)
 * @param writeBufferBytes the connection's write buffer high water mark: no event is written while
 *     more than this waits for the socket (writing resumes below half of it)
 * @param socketSendBufferBytes the socket's send buffer (SO_SNDBUF), or 0 to leave it to the
 *     kernel, which grows it as the connection needs (on Linux up to {@code net.ipv4.tcp_wmem}'s
 *     maximum)
 */
public record EventStreamLimits(
    int maxStreams,
    int maxQueuedEvents,
    long maxQueuedBytes,
    int writeBufferBytes,
    int socketSendBufferBytes) {

  /**
   * 256 streams; 1,000 events or 256 KiB queued per stream; 64 KiB in the write buffer; the
   * kernel's own send buffer.
   */
  public static final EventStreamLimits DEFAULT =
      new EventStreamLimits(256, 1_000, 256 * 1024, 64 * 1024, 0);

  public EventStreamLimits {
    if (maxStreams < 1
        || maxQueuedEvents < 1
        || maxQueuedBytes < 1
        || writeBufferBytes < 2
        || socketSendBufferBytes < 0) {
      throw new IllegalArgumentException(
          ("event stream limits must be positive: streams %d, events %d, bytes %d,"
                  + " write buffer %d, send buffer %d (0 for the kernel's)")
              .formatted(
                  maxStreams,
                  maxQueuedEvents,
                  maxQueuedBytes,
                  writeBufferBytes,
                  socketSendBufferBytes));
    }
  }

  /** The same limits serving at most {@code n} streams at once. */
  public EventStreamLimits withMaxStreams(int n) {
    return new EventStreamLimits(
        n, maxQueuedEvents, maxQueuedBytes, writeBufferBytes, socketSendBufferBytes);
  }
}
