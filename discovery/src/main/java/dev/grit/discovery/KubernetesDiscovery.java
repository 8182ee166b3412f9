package dev.grit.discovery;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Peers from the Kubernetes API: the pods in a namespace that match a label selector, kept up to
 * date by an informer (a list, then a watch). A peer's id is its pod name, which a StatefulSet
 * keeps across restarts; its host is the pod's DNS name under the headless Service, never its IP,
 * which changes when the pod is rescheduled.
 */
public final class KubernetesDiscovery implements PeerDiscovery {
  private static final Logger log = LoggerFactory.getLogger(KubernetesDiscovery.class);
  private static final String DEFAULT_NAMESPACE = "default";

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final String namespace;
  private final KubernetesSettings settings;
  private final PodPeers podPeers;
  private final PeerSet peers = new PeerSet();
  private final SharedIndexInformer<Pod> informer;
  private volatile Throwable lastFailure;
  private volatile boolean closed;

  /**
   * Watches the pods {@code settings} selects through {@code client}, which stays the caller's to
   * close.
   */
  public KubernetesDiscovery(KubernetesClient client, KubernetesSettings settings) {
    this(client, settings, false);
  }

  private KubernetesDiscovery(KubernetesClient client, KubernetesSettings settings, boolean ownsClient) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.settings = settings;
    this.namespace = namespaceOf(client, settings);
    this.podPeers = new PodPeers(namespace, settings);
    this.informer =
        client
            .pods()
            .inNamespace(namespace)
            .withLabelSelector(settings.labelSelector())
            .runnableInformer(0);
    informer.addEventHandler(new Handler());
    informer.exceptionHandler(
        (started, failure) -> {
          // The API server may be unreachable for a while (it restarts, a node is partitioned);
          // keep trying, and let await() say why nothing was found.
          // A stopped informer does not retry; a request cut short by close() is no news.
          if (!closed) {
            lastFailure = failure;
            log.warn("listing or watching pods in {} failed, retrying: {}", namespace, failure.toString());
          }
          return true;
        });
    informer.start();
  }

  /**
   * Connects the way the environment says: inside a pod, with its service account; elsewhere,
   * with {@code KUBERNETES_MASTER} or the kubeconfig. The client is closed with the discovery.
   */
  public static KubernetesDiscovery fromEnvironment(KubernetesSettings settings) {
    KubernetesClient client = new KubernetesClientBuilder().build();
    try {
      return new KubernetesDiscovery(client, settings, true);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /**
   * {@link #fromEnvironment(KubernetesSettings)} with the settings spelled out, as a command line
   * has them; {@code namespace} null means the client's own.
   */
  public static KubernetesDiscovery fromEnvironment(
      String namespace, String labelSelector, String service, String clusterDomain, int defaultRaftPort) {
    return fromEnvironment(
        new KubernetesSettings(namespace, labelSelector, service, clusterDomain, defaultRaftPort));
  }

  @Override
  public List<PeerAddress> await(int expected, Duration limit)
      throws DiscoveryException, InterruptedException {
    try {
      return peers.await(expected, limit, describe());
    } catch (DiscoveryException e) {
      Throwable failure = lastFailure;
      if (failure == null) {
        throw e;
      }
      throw new DiscoveryException(e.getMessage() + "; the last API failure was: " + failure);
    }
  }

  @Override
  public List<PeerAddress> current() {
    return peers.current();
  }

  @Override
  public void onChange(Consumer<List<PeerAddress>> listener) {
    peers.onChange(listener);
  }

  @Override
  public void close() {
    closed = true;
    informer.close();
    if (ownsClient) {
      client.close();
    }
  }

  private String describe() {
    return "Kubernetes discovery of pods " + settings.labelSelector() + " in namespace " + namespace;
  }

  private static String namespaceOf(KubernetesClient client, KubernetesSettings settings) {
    if (settings.namespace() != null) {
      return settings.namespace();
    }
    return client.getNamespace() != null ? client.getNamespace() : DEFAULT_NAMESPACE;
  }

  /** The informer's cache is the truth: each event rebuilds the set from all of it. */
  private void refresh() {
    var members = new ArrayList<PeerAddress>();
    for (Pod pod : informer.getStore().list()) {
      try {
        podPeers.peer(pod).ifPresent(members::add);
      } catch (IllegalArgumentException e) {
        log.warn("ignoring pod {}: {}", pod.getMetadata().getName(), e.getMessage());
      }
    }
    lastFailure = null;
    peers.replace(members);
  }

  private final class Handler implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      refresh();
    }

    @Override
    public void onUpdate(Pod before, Pod after) {
      refresh();
    }

    @Override
    public void onDelete(Pod pod, boolean finalStateUnknown) {
      refresh();
    }
  }
}
