package dev.grit.discovery;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;

/** Pods as a grit StatefulSet makes them, for the Kubernetes tests. */
final class Pods {
  static final String MEMBER_LABEL = "app.kubernetes.io/name";

  private Pods() {}

  /** A running pod labelled as a grit member whose container's port named {@code raft} is {@code raftPort}. */
  static PodBuilder member(String name, int raftPort) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(MEMBER_LABEL, "grit")
        .endMetadata()
        .withNewSpec()
        .withSubdomain("grit")
        .addNewContainer()
        .withName("grit")
        .withImage("grit:test")
        .addNewPort()
        .withName("api")
        .withContainerPort(8080)
        .endPort()
        .addNewPort()
        .withName("raft")
        .withContainerPort(raftPort)
        .endPort()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus();
  }

  static Pod withPhase(Pod pod, String phase) {
    return new PodBuilder(pod).editStatus().withPhase(phase).endStatus().build();
  }
}
