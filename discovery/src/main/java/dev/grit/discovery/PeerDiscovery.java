package dev.grit.discovery;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/** Finds the members a node forms or joins its Raft group with. */
public interface PeerDiscovery extends AutoCloseable {

  /**
   * Waits until at least {@code expected} peers (this node included) are known, at most {@code
   * limit}, and returns them sorted by id, so every node forms the same group.
   *
   * @throws DiscoveryException when fewer are found in time
   */
  List<PeerAddress> await(int expected, Duration limit) throws DiscoveryException, InterruptedException;

  /** The peers known now, sorted by id; this node is among them once it is known. */
  List<PeerAddress> current();

  /**
   * Calls {@code listener} with the whole sorted set after each change, on a thread of the
   * implementation; it should return quickly. A set is never followed by an older one, though
   * changes that race each other may reach the listener as their latest set only.
   */
  void onChange(Consumer<List<PeerAddress>> listener);

  @Override
  default void close() {}

  /** Peers could not be found. */
  final class DiscoveryException extends Exception {
    public DiscoveryException(String message) {
      super(message);
    }
  }
}
