package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class StaticDiscoveryTest {
  @Test
  void parsesAndSortsById() throws Exception {
    var peers = StaticDiscovery.parse("n2=127.0.0.1:9872, n1=localhost:9871,n3=[::1]:9873").await(3, Duration.ZERO);
    assertEquals(
        List.of(
            new PeerAddress("n1", "localhost", 9871),
            new PeerAddress("n2", "127.0.0.1", 9872),
            new PeerAddress("n3", "[::1]", 9873)),
        peers);
  }

  @Test
  void rejectsMalformedLists() {
    for (String bad : List.of("", "n1", "n1=host", "=h:1", "n1=h:x", "n1=h:0", "n1=h:1,n1=g:2", "bad id=h:1", "n1=:5")) {
      assertThrows(IllegalArgumentException.class, () -> StaticDiscovery.parse(bad), bad);
    }
  }

  @Test
  void tooFewPeersIsAnError() {
    var d = StaticDiscovery.parse("n1=h:1");
    assertThrows(PeerDiscovery.DiscoveryException.class, () -> d.await(3, Duration.ZERO));
  }

  @Test
  void currentIsTheWholeSortedListAndNeverChanges() throws Exception {
    var d = StaticDiscovery.parse("b=h:2,a=h:1");
    d.onChange(
        peers -> {
          throw new AssertionError("a static list changed: " + peers);
        });
    assertEquals(List.of(new PeerAddress("a", "h", 1), new PeerAddress("b", "h", 2)), d.current());
    assertEquals(d.current(), d.await(2, Duration.ZERO));
  }
}
