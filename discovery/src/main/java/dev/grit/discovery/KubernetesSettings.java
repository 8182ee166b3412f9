package dev.grit.discovery;

/**
 * Where {@link KubernetesDiscovery} looks for members and how it dials them.
 *
 * @param namespace the namespace of the pods; null for the client's own (in a pod, the service
 *     account's namespace)
 * @param labelSelector which pods are members, e.g. {@code app.kubernetes.io/name=grit}
 * @param service the headless Service whose DNS records name the pods (their {@code subdomain})
 * @param clusterDomain the cluster's DNS suffix
 * @param defaultRaftPort the Raft port of a pod with no container port named {@code raft}
 */
public record KubernetesSettings(
    String namespace,
    String labelSelector,
    String service,
    String clusterDomain,
    int defaultRaftPort) {
  public static final String DEFAULT_LABEL_SELECTOR = "app.kubernetes.io/name=grit";
  public static final String DEFAULT_CLUSTER_DOMAIN = "cluster.local";
  public static final int DEFAULT_RAFT_PORT = 9870;

  private static final String DNS_NAME = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";

  public KubernetesSettings {
    if (namespace != null && !namespace.matches(DNS_NAME)) {
      throw new IllegalArgumentException("namespace " + namespace + " is not a DNS label");
    }
    if (labelSelector == null || labelSelector.isBlank()) {
      throw new IllegalArgumentException("a label selector is needed, or every pod is a member");
    }
    if (service == null || !service.matches(DNS_NAME)) {
      throw new IllegalArgumentException("service " + service + " is not a DNS label");
    }
    if (clusterDomain == null || !clusterDomain.matches(DNS_NAME + "(\\." + DNS_NAME + ")*")) {
      throw new IllegalArgumentException("cluster domain " + clusterDomain + " is not a DNS name");
    }
    if (defaultRaftPort < 1 || defaultRaftPort > 65535) {
      throw new IllegalArgumentException("default Raft port " + defaultRaftPort + " is not 1-65535");
    }
  }

  /** The client's namespace, the default selector, domain and port, and {@code service}. */
  public static KubernetesSettings forService(String service) {
    return new KubernetesSettings(
        null, DEFAULT_LABEL_SELECTOR, service, DEFAULT_CLUSTER_DOMAIN, DEFAULT_RAFT_PORT);
  }

  public KubernetesSettings withNamespace(String namespace) {
    return new KubernetesSettings(namespace, labelSelector, service, clusterDomain, defaultRaftPort);
  }

  public KubernetesSettings withLabelSelector(String labelSelector) {
    return new KubernetesSettings(namespace, labelSelector, service, clusterDomain, defaultRaftPort);
  }

  public KubernetesSettings withClusterDomain(String clusterDomain) {
    return new KubernetesSettings(namespace, labelSelector, service, clusterDomain, defaultRaftPort);
  }

  public KubernetesSettings withDefaultRaftPort(int defaultRaftPort) {
    return new KubernetesSettings(namespace, labelSelector, service, clusterDomain, defaultRaftPort);
  }
}
