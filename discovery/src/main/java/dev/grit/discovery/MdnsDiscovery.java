package dev.grit.discovery;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.jmdns.JmDNS;
import javax.jmdns.ServiceEvent;
import javax.jmdns.ServiceInfo;
import javax.jmdns.ServiceListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Peers on the local link, found by mDNS/DNS-SD: every node advertises {@value #SERVICE_TYPE}
 * with its id, cluster name, Raft host and Raft port in the TXT record, and browses for the
 * others of the same cluster. This node is always among the peers.
 *
 * <p>An advertisement takes a few seconds to be seen (jmdns probes for name conflicts first); a
 * node that closes sends a goodbye, so the others drop it at once.
 */
public final class MdnsDiscovery implements PeerDiscovery {
  public static final String SERVICE_TYPE = "_grit._tcp.local.";

  private static final Logger log = LoggerFactory.getLogger(MdnsDiscovery.class);
  private static final long REREAD_TIMEOUT_MILLIS = 3_000;
  private static final long REQUEST_TIMEOUT_MILLIS = 200;

  private final String cluster;
  private final PeerAddress self;
  private final PeerSet peers = new PeerSet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ServiceListener listener = new Listener();
  // jmdns calls listeners on its own single thread; resolving may block for seconds, so the
  // work moves to this one, which also keeps adds and removes in the order they came.
  private final ExecutorService events;
  // Touched only on the events thread. Sorted, so a clash of ids resolves the same way each time.
  private final Map<String, PeerAddress> byInstance = new TreeMap<>();
  private final JmDNS jmdns;

  /**
   * Starts advertising {@code self} as a member of {@code cluster} and browsing for the others.
   *
   * @param cluster only peers advertising the same name are members
   * @param bindAddress the address of the interface mDNS runs on; its packets stay on that link
   * @throws IOException when the mDNS socket cannot be opened or the service not registered
   */
  public MdnsDiscovery(String cluster, PeerAddress self, InetAddress bindAddress) throws IOException {
    if (cluster == null || !cluster.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
      throw new IllegalArgumentException(
          "cluster name " + cluster + " must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
    }
    this.cluster = cluster;
    this.self = Objects.requireNonNull(self, "self");
    Objects.requireNonNull(bindAddress, "bindAddress");
    peers.replace(List.of(self));
    events =
        Executors.newSingleThreadExecutor(
            r -> {
              var t = new Thread(r, "grit-mdns-" + self.id());
              t.setDaemon(true);
              return t;
            });
    String instance = MdnsRecord.instanceName(cluster, self.id());
    try {
      // The instance name doubles as the host name, so nodes sharing an address (several on one
      // machine) do not have to negotiate one.
      jmdns = JmDNS.create(bindAddress, instance);
    } catch (IOException | RuntimeException e) {
      events.shutdownNow();
      throw e;
    }
    try {
      jmdns.addServiceListener(SERVICE_TYPE, listener);
      jmdns.registerService(
          ServiceInfo.create(
              SERVICE_TYPE, instance, self.port(), 0, 0, MdnsRecord.properties(cluster, self)));
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public List<PeerAddress> await(int expected, Duration limit)
      throws DiscoveryException, InterruptedException {
    return peers.await(expected, limit, "mDNS discovery of cluster " + cluster);
  }

  @Override
  public List<PeerAddress> current() {
    return peers.current();
  }

  @Override
  public void onChange(Consumer<List<PeerAddress>> listener) {
    peers.onChange(listener);
  }

  /**
   * Stops browsing at once and withdraws the advertisement in the background: jmdns spends
   * seconds sending goodbyes and waiting, which a shutting-down node should not wait for. The
   * thread is a daemon because jmdns's own shutdown hook finishes the job if the JVM exits first.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    jmdns.removeServiceListener(SERVICE_TYPE, listener);
    events.shutdownNow();
    var closer =
        new Thread(
            () -> {
              try {
                jmdns.close();
              } catch (IOException | RuntimeException e) {
                log.debug("closing mDNS for {} failed", self.id(), e);
              }
            },
            "grit-mdns-close-" + self.id());
    closer.setDaemon(true);
    closer.start();
  }

  private void resolved(String instance, ServiceInfo info) {
    if (!MdnsRecord.complete(info)) {
      // Seen on this machine: the resolved event can come before the TXT record is cached.
      info = jmdns.getServiceInfo(SERVICE_TYPE, instance, REREAD_TIMEOUT_MILLIS);
      if (!MdnsRecord.complete(info)) {
        log.debug("mDNS service {} has no complete TXT record yet", instance);
        return; // jmdns reports the service resolved again when the record arrives
      }
    }
    PeerAddress peer;
    try {
      peer = MdnsRecord.peer(info, cluster).orElse(null);
    } catch (IllegalArgumentException e) {
      log.warn("ignoring mDNS service {}: {}", instance, e.getMessage());
      return;
    }
    if (peer == null) {
      if (byInstance.remove(instance) != null) {
        publish(); // it moved to another cluster
      }
      return;
    }
    if (peer.id().equals(self.id()) && !peer.equals(self)) {
      log.warn("mDNS service {} claims this node's id {} at {}", instance, self.id(), peer);
    }
    byInstance.put(instance, peer);
    publish();
  }

  private void removed(String instance) {
    if (byInstance.remove(instance) != null) {
      publish();
    }
  }

  private void publish() {
    var byId = new TreeMap<String, PeerAddress>();
    byInstance.values().forEach(p -> byId.putIfAbsent(p.id(), p));
    byId.put(self.id(), self); // this node knows its own address best
    peers.replace(byId.values());
  }

  private void onEventsThread(Runnable work) {
    try {
      events.execute(
          () -> {
            try {
              work.run();
            } catch (RuntimeException e) {
              log.warn("handling an mDNS event failed", e);
            }
          });
    } catch (RejectedExecutionException e) {
      // closed meanwhile: nobody is interested any more
    }
  }

  private final class Listener implements ServiceListener {
    @Override
    public void serviceAdded(ServiceEvent event) {
      // Only asks for the SRV and TXT records; the answer arrives as serviceResolved.
      onEventsThread(
          () -> jmdns.requestServiceInfo(SERVICE_TYPE, event.getName(), REQUEST_TIMEOUT_MILLIS));
    }

    @Override
    public void serviceResolved(ServiceEvent event) {
      onEventsThread(() -> resolved(event.getName(), event.getInfo()));
    }

    @Override
    public void serviceRemoved(ServiceEvent event) {
      onEventsThread(() -> removed(event.getName()));
    }
  }
}
