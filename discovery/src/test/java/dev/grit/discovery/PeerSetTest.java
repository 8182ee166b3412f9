package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PeerSetTest {
  private final PeerAddress a = new PeerAddress("a", "h", 1);
  private final PeerAddress b = new PeerAddress("b", "h", 2);
  private final PeerAddress c = new PeerAddress("c", "h", 3);
  private final PeerSet set = new PeerSet();

  @Test
  void keepsPeersSortedAndTellsListenersOnlyOfChanges() {
    var heard = new CopyOnWriteArrayList<List<PeerAddress>>();
    set.onChange(heard::add);
    set.replace(List.of(b, a));
    set.replace(List.of(a, b));
    set.replace(List.of(c, a));
    assertEquals(List.of(a, c), set.current());
    assertEquals(List.of(List.of(a, b), List.of(a, c)), heard);
  }

  @Test
  void awaitReturnsOnceEnoughPeersAreKnown() throws Exception {
    set.replace(List.of(a));
    var waiting =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return set.await(3, Duration.ofSeconds(10), "test");
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    set.replace(List.of(a, b));
    set.replace(List.of(c, b, a));
    assertEquals(List.of(a, b, c), waiting.get(10, TimeUnit.SECONDS));
  }

  @Test
  void awaitFailsAfterTheLimitNamingTheSource() {
    set.replace(List.of(a));
    var e =
        assertThrows(
            PeerDiscovery.DiscoveryException.class,
            () -> set.await(2, Duration.ofMillis(50), "the source"));
    assertTrue(e.getMessage().startsWith("the source found 1 of 2 peers"), e.getMessage());
  }

  @Test
  void aFailingListenerDoesNotStopTheOthers() {
    var heard = new CopyOnWriteArrayList<List<PeerAddress>>();
    set.onChange(
        peers -> {
          throw new IllegalStateException("listener bug");
        });
    set.onChange(heard::add);
    set.replace(List.of(a));
    assertEquals(List.of(List.of(a)), heard);
  }
}
