package dev.grit.discovery;

import java.time.Duration;
import java.util.List;

/** Finds the members a node forms or joins its Raft group with. */
public interface PeerDiscovery extends AutoCloseable {

  /**
   * Waits until at least {@code expected} peers (this node included) are known, at most {@code
   * limit}, and returns them sorted by id, so every node forms the same group.
   *
   * @throws DiscoveryException when fewer are found in time
   */
  List<PeerAddress> await(int expected, Duration limit) throws DiscoveryException, InterruptedException;

  @Override
  default void close() {}

  /** Peers could not be found. */
  final class DiscoveryException extends Exception {
    public DiscoveryException(String message) {
      super(message);
    }
  }
}
