package dev.grit.discovery;

import dev.grit.discovery.PeerDiscovery.DiscoveryException;
import java.time.Duration;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peers a changing source knows now: waiters and listeners are told about each new set. The
 * shared half of every discovery that learns its members over time.
 */
final class PeerSet {
  private static final Logger log = LoggerFactory.getLogger(PeerSet.class);

  private final Object lock = new Object();
  private final List<Consumer<List<PeerAddress>>> listeners = new CopyOnWriteArrayList<>();
  private List<PeerAddress> peers = List.of();
  private long version;

  // Listeners run outside the state lock (a listener may call current()), but under this one,
  // so two sources racing cannot deliver an older set after a newer one.
  private final Object deliveryLock = new Object();
  private long deliveredVersion;

  /** Makes {@code next} the known set; waiters and listeners hear of it only if it differs. */
  void replace(Collection<PeerAddress> next) {
    List<PeerAddress> sorted = next.stream().sorted(Comparator.comparing(PeerAddress::id)).toList();
    synchronized (lock) {
      if (sorted.equals(peers)) {
        return;
      }
      peers = sorted;
      version++;
      lock.notifyAll();
    }
    deliver();
  }

  List<PeerAddress> current() {
    synchronized (lock) {
      return peers;
    }
  }

  void onChange(Consumer<List<PeerAddress>> listener) {
    listeners.add(listener);
  }

  /**
   * Waits until at least {@code expected} peers are known; {@code source} names where they come
   * from in the error.
   */
  List<PeerAddress> await(int expected, Duration limit, String source)
      throws DiscoveryException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    synchronized (lock) {
      while (peers.size() < expected) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new DiscoveryException(
              source
                  + " found "
                  + peers.size()
                  + " of "
                  + expected
                  + " peers in "
                  + limit.toMillis()
                  + " ms: "
                  + peers);
        }
        // Rounded up: a wait of 0 ms would mean "forever".
        lock.wait(Math.max(1, (left + 999_999) / 1_000_000));
      }
      return peers;
    }
  }

  private void deliver() {
    synchronized (deliveryLock) {
      List<PeerAddress> latest;
      long latestVersion;
      synchronized (lock) {
        latest = peers;
        latestVersion = version;
      }
      if (latestVersion <= deliveredVersion) {
        return; // a racing change already delivered this set or a newer one
      }
      deliveredVersion = latestVersion;
      for (var listener : listeners) {
        try {
          listener.accept(latest);
        } catch (RuntimeException e) {
          log.warn("a peer-change listener failed", e);
        }
      }
    }
  }
}
