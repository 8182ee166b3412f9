package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.jmdns.JmDNS;
import javax.jmdns.ServiceEvent;
import javax.jmdns.ServiceListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Real mDNS between nodes in this JVM, all bound to the loopback interface so nothing leaves the
 * machine. Each test uses its own cluster name, so runs that overlap on one machine stay apart.
 */
class MdnsDiscoveryTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  // An advertisement is seen after about 4 s and a goodbye after 1-11 s (jmdns expires a
  // withdrawn record one second later, on its next cache sweep).
  private static final Duration SEEN = Duration.ofSeconds(30);

  private final String cluster = "test-" + UUID.randomUUID().toString().substring(0, 8);
  private final PeerAddress n1 = new PeerAddress("n1", "127.0.0.1", 19871);
  private final PeerAddress n2 = new PeerAddress("n2", "127.0.0.1", 19872);
  private final PeerAddress n3 = new PeerAddress("n3", "127.0.0.1", 19873);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (var c : toClose) {
      c.close();
    }
  }

  @Test
  void nodesOfOneClusterFindEachOtherAndSeeALeaverGo() throws Exception {
    var stranger = new PeerAddress("n0", "127.0.0.1", 19870);
    String strangerCluster = cluster + "-other";
    var witness = new Witness();
    var other = start(strangerCluster, stranger);
    // Started in another order than their ids sort in.
    var node3 = start(cluster, n3);
    var node1 = start(cluster, n1);
    var node2 = start(cluster, n2);
    var seenByNode3 = new CopyOnWriteArrayList<List<PeerAddress>>();
    node3.onChange(seenByNode3::add);

    var all = List.of(n1, n2, n3);
    assertEquals(all, node1.await(3, SEEN));
    assertEquals(all, node2.await(3, SEEN));
    assertEquals(all, node3.await(3, SEEN));
    awaitHeard(seenByNode3, all);
    assertEquals(List.of(stranger), other.current());

    node2.close();
    Wait.until(
        "n2 to disappear from the others",
        SEEN,
        () -> node1.current().equals(List.of(n1, n3)) && node3.current().equals(List.of(n1, n3)),
        () -> "n1 sees " + node1.current() + ", n3 sees " + node3.current());
    awaitHeard(seenByNode3, List.of(n1, n3));

    // The stranger's advertisement was on the link (a plain browser saw it), yet no member ever
    // counted it.
    String strangerInstance = MdnsRecord.instanceName(strangerCluster, stranger.id());
    Wait.until(
        "a plain browser to see the other cluster's node",
        SEEN,
        () -> witness.names.contains(strangerInstance),
        () -> "the browser saw " + witness.names);
    for (var set : seenByNode3) {
      assertFalse(set.contains(stranger), "a member of another cluster was counted: " + set);
    }
    assertEquals(List.of(n1, n3), node1.current());
    assertEquals(List.of(stranger), other.current());
  }

  @Test
  void aLoneNodeKnowsItselfAndTimesOutWaitingForMore() throws Exception {
    var alone = start(cluster, n1);
    assertEquals(List.of(n1), alone.current());
    var e =
        assertThrows(
            PeerDiscovery.DiscoveryException.class, () -> alone.await(2, Duration.ofMillis(300)));
    assertTrue(e.getMessage().contains("found 1 of 2"), e.getMessage());
    assertEquals(List.of(n1), alone.await(1, Duration.ZERO));
  }

  @Test
  void rejectsClusterNamesThatCannotBeAdvertised() {
    for (String bad : new String[] {"", " x", "a b", "-a", "x".repeat(64)}) {
      assertThrows(IllegalArgumentException.class, () -> new MdnsDiscovery(bad, n1, LOOPBACK), bad);
    }
  }

  private MdnsDiscovery start(String cluster, PeerAddress self) throws IOException {
    var d = new MdnsDiscovery(cluster, self, LOOPBACK);
    toClose.add(d);
    return d;
  }

  /** Listeners are called just after the set changes, so await() may return first. */
  private static void awaitHeard(List<List<PeerAddress>> heard, List<PeerAddress> expected) {
    Wait.until(
        "a listener to hear of " + expected,
        SEEN,
        () -> !heard.isEmpty() && heard.get(heard.size() - 1).equals(expected),
        () -> "it heard " + heard);
  }

  /** A bare jmdns browser on loopback that notes every grit service instance announced. */
  private final class Witness implements ServiceListener, AutoCloseable {
    final Set<String> names = ConcurrentHashMap.newKeySet();
    private final JmDNS jmdns;

    Witness() throws IOException {
      jmdns = JmDNS.create(LOOPBACK, "witness-" + cluster);
      jmdns.addServiceListener(MdnsDiscovery.SERVICE_TYPE, this);
      toClose.add(this);
    }

    @Override
    public void serviceAdded(ServiceEvent event) {
      names.add(event.getName());
    }

    @Override
    public void serviceRemoved(ServiceEvent event) {}

    @Override
    public void serviceResolved(ServiceEvent event) {}

    @Override
    public void close() {
      // Closing takes seconds of goodbyes; the test need not wait for them.
      var closer =
          new Thread(
              () -> {
                try {
                  jmdns.close();
                } catch (IOException e) {
                  // the JVM's shutdown hook in jmdns closes it anyway
                }
              });
      closer.setDaemon(true);
      closer.start();
    }
  }
}
