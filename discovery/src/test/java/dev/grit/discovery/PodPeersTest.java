package dev.grit.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PodPeersTest {
  private final PodPeers peers = new PodPeers("ns", KubernetesSettings.forService("grit"));

  @Test
  void aPodIsItsNameAtItsServiceDnsNameAndRaftPort() {
    assertEquals(
        Optional.of(new PeerAddress("grit-0", "grit-0.grit.ns.svc.cluster.local", 9871)),
        peers.peer(Pods.member("grit-0", 9871).build()));
  }

  @Test
  void theHostnameInTheSpecNamesThePodInDns() {
    var pod = Pods.member("grit-0", 9871).editSpec().withHostname("first").endSpec().build();
    assertEquals("first.grit.ns.svc.cluster.local", peers.peer(pod).orElseThrow().host());
  }

  @Test
  void theClusterDomainAndDefaultPortAreSettings() {
    var settings =
        KubernetesSettings.forService("raft-peers").withClusterDomain("corp.example").withDefaultRaftPort(7000);
    var pod = Pods.member("grit-1", 9871).editSpec().editFirstContainer().withPorts().endContainer().endSpec().build();
    assertEquals(
        Optional.of(new PeerAddress("grit-1", "grit-1.raft-peers.prod.svc.corp.example", 7000)),
        new PodPeers("prod", settings).peer(pod));
  }

  @Test
  void aPodNotReadyYetCounts() {
    var pod = Pods.withPhase(Pods.member("grit-0", 9870).build(), "Pending");
    assertEquals("grit-0", peers.peer(pod).orElseThrow().id());
  }

  @Test
  void finishedPodsAndPodsBeingDeletedDoNot() {
    assertEquals(Optional.empty(), peers.peer(Pods.withPhase(Pods.member("grit-0", 9870).build(), "Failed")));
    assertEquals(Optional.empty(), peers.peer(Pods.withPhase(Pods.member("grit-0", 9870).build(), "Succeeded")));
    var deleting =
        new PodBuilder(Pods.member("grit-0", 9870).build())
            .editMetadata()
            .withDeletionTimestamp("2026-01-01T00:00:00Z")
            .endMetadata()
            .build();
    assertEquals(Optional.empty(), peers.peer(deleting));
  }

  @Test
  void aPodNameThatCannotBeAnIdIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> peers.peer(Pods.member("g".repeat(64), 9870).build()));
  }

  @Test
  void settingsRejectWhatCannotBeADnsName() {
    var ok = KubernetesSettings.forService("grit");
    assertThrows(IllegalArgumentException.class, () -> KubernetesSettings.forService("Grit"));
    assertThrows(IllegalArgumentException.class, () -> ok.withNamespace("a_b"));
    assertThrows(IllegalArgumentException.class, () -> ok.withClusterDomain("cluster..local"));
    assertThrows(IllegalArgumentException.class, () -> ok.withLabelSelector(" "));
    assertThrows(IllegalArgumentException.class, () -> ok.withDefaultRaftPort(0));
  }
}
