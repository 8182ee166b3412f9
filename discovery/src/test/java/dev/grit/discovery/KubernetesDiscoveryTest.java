package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.PodResource;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Against fabric8's mock API server ({@link MockApiServer}), so the informer lists and watches as
 * it would against a cluster.
 */
class KubernetesDiscoveryTest {
  private static final String NAMESPACE = "grit-test";
  private static final Duration LIMIT = Duration.ofSeconds(10);

  private final MockApiServer api = new MockApiServer(); // a fresh one per test
  private final KubernetesClient client = api.client();

  private final KubernetesSettings settings =
      KubernetesSettings.forService("grit").withNamespace(NAMESPACE);

  @AfterEach
  void stopTheApiServer() throws Exception {
    api.close();
  }

  private KubernetesDiscovery discovery(KubernetesSettings chosen) {
    return api.closedAfterStopping(new KubernetesDiscovery(client, chosen));
  }

  @Test
  void awaitWaitsUntilEnoughPodsExist() throws Exception {
    var discovery = discovery(settings);
    var found =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return discovery.await(3, LIMIT);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    create(Pods.member("grit-2", 9870));
    create(Pods.member("grit-0", 9870));
    Wait.until(
        "two pods to be seen",
        LIMIT,
        () -> discovery.current().size() == 2,
        () -> "seen: " + discovery.current());
    assertFalse(found.isDone(), "await(3) returned with two pods");
    create(Pods.member("grit-1", 9870));
    assertEquals(
        List.of(peer("grit-0", 9870), peer("grit-1", 9870), peer("grit-2", 9870)),
        found.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Test
  void changesAndDeparturesAreSeenAndReported() throws Exception {
    var discovery = discovery(settings);
    var heard = new CopyOnWriteArrayList<List<PeerAddress>>();
    discovery.onChange(heard::add);
    create(Pods.member("grit-0", 9870));
    create(Pods.member("grit-1", 9870));
    var both = List.of(peer("grit-0", 9870), peer("grit-1", 9870));
    awaitCurrent(discovery, both);

    pods().withName("grit-1").edit(p -> withRaftPort(p, 9999));
    var moved = List.of(peer("grit-0", 9870), peer("grit-1", 9999));
    awaitCurrent(discovery, moved);

    pods().withName("grit-0").delete();
    awaitCurrent(discovery, List.of(peer("grit-1", 9999)));

    // Listeners are called just after the set changes, so the last may still be on its way.
    Wait.until(
        "the listener to hear of the departure",
        LIMIT,
        () -> !heard.isEmpty() && heard.get(heard.size() - 1).equals(List.of(peer("grit-1", 9999))),
        () -> "it heard " + heard);
    assertTrue(heard.contains(both), "heard " + heard);
    assertTrue(heard.contains(moved), "heard " + heard);
  }

  @Test
  void podsWithOtherLabelsOrInOtherNamespacesAreIgnored() throws Exception {
    var discovery = discovery(settings);
    create(Pods.member("web-0", 9870).editMetadata().addToLabels(Pods.MEMBER_LABEL, "web").endMetadata());
    client.pods().inNamespace("elsewhere").resource(Pods.member("grit-9", 9870).build()).create();
    // Created after the others, so once it is seen the informer has had its chance at them.
    create(Pods.member("grit-0", 9870));
    awaitCurrent(discovery, List.of(peer("grit-0", 9870)));
    assertEquals(2, pods().list().getItems().size());
  }

  @Test
  void finishedPodsAndPodsBeingDeletedAreNotMembers() throws Exception {
    var discovery = discovery(settings);
    create(Pods.member("grit-0", 9870));
    create(Pods.member("grit-1", 9870));
    // A finalizer keeps a deleted pod around with a deletionTimestamp, as a terminating pod is.
    create(Pods.member("grit-2", 9870).editMetadata().addToFinalizers("test/hold").endMetadata());
    create(Pods.member("done-0", 9870).editStatus().withPhase("Succeeded").endStatus());
    awaitCurrent(
        discovery, List.of(peer("grit-0", 9870), peer("grit-1", 9870), peer("grit-2", 9870)));

    pods().withName("grit-1").edit(p -> Pods.withPhase(p, "Failed"));
    awaitCurrent(discovery, List.of(peer("grit-0", 9870), peer("grit-2", 9870)));

    pods().withName("grit-2").delete();
    awaitCurrent(discovery, List.of(peer("grit-0", 9870)));
    Pod terminating = pods().withName("grit-2").get();
    assertNotNull(terminating, "the finalizer should have kept the pod");
    assertNotNull(terminating.getMetadata().getDeletionTimestamp());
  }

  @Test
  void awaitFailsInTimeWhenTooFewPodsExist() throws Exception {
    create(Pods.member("grit-0", 9870));
    var discovery = discovery(settings);
    awaitCurrent(discovery, List.of(peer("grit-0", 9870)));
    var e =
        assertThrows(
            PeerDiscovery.DiscoveryException.class, () -> discovery.await(2, Duration.ofMillis(300)));
    assertTrue(e.getMessage().contains("found 1 of 2"), e.getMessage());
  }

  @Test
  void theNamespaceDefaultsToTheClients() throws Exception {
    String clientNamespace = client.getNamespace();
    client.pods().inNamespace(clientNamespace).resource(Pods.member("grit-0", 9870).build()).create();
    var discovery = discovery(KubernetesSettings.forService("grit"));
    awaitCurrent(
        discovery,
        List.of(new PeerAddress("grit-0", "grit-0.grit." + clientNamespace + ".svc.cluster.local", 9870)));
  }

  @Test
  void fromTheEnvironmentConnectsWhereTheConfigurationSays() throws Exception {
    // The same settings an operator could give as KUBERNETES_MASTER etc.; no kubeconfig or
    // service account of this machine is read.
    var properties =
        Map.of(
            "kubernetes.master", client.getMasterUrl().toString(),
            "kubernetes.trust.certificates", "true",
            "kubernetes.namespace", NAMESPACE,
            "kubernetes.auth.tryKubeConfig", "false",
            "kubernetes.auth.tryServiceAccount", "false");
    properties.forEach(System::setProperty);
    try {
      create(Pods.member("grit-0", 9870));
      // No namespace given: the one the configuration names is used.
      var discovery =
          api.closedAfterStopping(
              KubernetesDiscovery.fromEnvironment(
                  null, KubernetesSettings.DEFAULT_LABEL_SELECTOR, "grit", "cluster.local", 9870));
      awaitCurrent(discovery, List.of(peer("grit-0", 9870)));
      // Only the watch brings this one: the discovery's own client watches, not just lists.
      create(Pods.member("grit-1", 9870));
      awaitCurrent(discovery, List.of(peer("grit-0", 9870), peer("grit-1", 9870)));
    } finally {
      properties.keySet().forEach(System::clearProperty);
    }
  }

  @Test
  void anUnreachableApiServerIsNamedWhenTooFewAreFound() throws Exception {
    // Nothing listens on port 1 of loopback: the informer fails and keeps retrying. Without
    // the client's own retries of each request, the first failure reaches it at once.
    var config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl("https://127.0.0.1:1")
            .withRequestRetryBackoffLimit(0)
            .build();
    try (var unreachable = new KubernetesClientBuilder().withConfig(config).build();
        var discovery = new KubernetesDiscovery(unreachable, settings)) {
      Wait.until(
          "await() to name the failure",
          LIMIT,
          () -> failureOfAwait(discovery).contains("the last API failure was"),
          () -> failureOfAwait(discovery));
    }
  }

  private static String failureOfAwait(PeerDiscovery discovery) {
    var e =
        assertThrows(PeerDiscovery.DiscoveryException.class, () -> discovery.await(1, Duration.ZERO));
    return e.getMessage();
  }

  private NonNamespaceOperation<Pod, PodList, PodResource> pods() {
    return client.pods().inNamespace(NAMESPACE);
  }

  private void create(PodBuilder pod) {
    pods().resource(pod.build()).create();
  }

  private static PeerAddress peer(String pod, int raftPort) {
    return new PeerAddress(pod, pod + ".grit." + NAMESPACE + ".svc.cluster.local", raftPort);
  }

  private static Pod withRaftPort(Pod pod, int raftPort) {
    return new PodBuilder(pod)
        .editSpec()
        .editFirstContainer()
        .editMatchingPort(p -> "raft".equals(p.getName()))
        .withContainerPort(raftPort)
        .endPort()
        .endContainer()
        .endSpec()
        .build();
  }

  private static void awaitCurrent(PeerDiscovery discovery, List<PeerAddress> expected) {
    Wait.until(
        "the peers to be " + expected,
        LIMIT,
        () -> discovery.current().equals(expected),
        () -> "they are " + discovery.current());
  }
}
