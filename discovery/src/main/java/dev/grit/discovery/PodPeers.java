package dev.grit.discovery;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Optional;
import java.util.Set;

/** Which pods are members and where their Raft servers are reached. */
final class PodPeers {
  static final String RAFT_PORT_NAME = "raft";

  // A pod that has finished will not run again (a restart is a new pod); one being deleted is
  // on its way out and should not be counted towards a quorum being formed.
  private static final Set<String> FINISHED_PHASES = Set.of("Failed", "Succeeded");

  private final String namespace;
  private final KubernetesSettings settings;

  PodPeers(String namespace, KubernetesSettings settings) {
    this.namespace = namespace;
    this.settings = settings;
  }

  /**
   * The member {@code pod} is, or empty when it is finished or being deleted. A pod that is not
   * ready yet counts: the headless Service publishes its address anyway, and a group being formed
   * needs its members before they are ready.
   *
   * @throws IllegalArgumentException when the pod's name cannot be a peer id
   */
  Optional<PeerAddress> peer(Pod pod) {
    var meta = pod.getMetadata();
    if (meta.getDeletionTimestamp() != null) {
      return Optional.empty();
    }
    if (pod.getStatus() != null && FINISHED_PHASES.contains(pod.getStatus().getPhase())) {
      return Optional.empty();
    }
    return Optional.of(new PeerAddress(meta.getName(), host(pod), raftPort(pod)));
  }

  /** The pod's headless-Service DNS name: stable across restarts, unlike its IP. */
  private String host(Pod pod) {
    var spec = pod.getSpec();
    String hostname =
        spec != null && spec.getHostname() != null && !spec.getHostname().isBlank()
            ? spec.getHostname()
            : pod.getMetadata().getName();
    return hostname + "." + settings.service() + "." + namespace + ".svc." + settings.clusterDomain();
  }

  private int raftPort(Pod pod) {
    if (pod.getSpec() == null) {
      return settings.defaultRaftPort();
    }
    for (Container container : pod.getSpec().getContainers()) {
      for (ContainerPort port : container.getPorts()) {
        if (RAFT_PORT_NAME.equals(port.getName()) && port.getContainerPort() != null) {
          return port.getContainerPort();
        }
      }
    }
    return settings.defaultRaftPort();
  }
}
