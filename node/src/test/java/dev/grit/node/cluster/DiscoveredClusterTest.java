package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Ports;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.NodeCluster;
import dev.grit.node.testing.NodeJvm;
import dev.grit.node.testing.TestSecrets;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real {@code grit node} JVMs that are given no peer list: they find each other by mDNS on
 * loopback, or through the Kubernetes API configured exactly as the StatefulSet in {@code
 * deploy/} configures its pods, and form one group that runs a pipeline.
 */
@Tag("slow")
@EnableKubernetesMockClient(crud = true)
class DiscoveredClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path STATEFUL_SET = Path.of("..", "deploy", "kubernetes", "base", "statefulset.yaml");
  private static final String NAMESPACE = "grit-test";

  @TempDir Path dir;
  KubernetesClient client; // set by the mock server's extension

  private final List<NodeJvm> nodes = new ArrayList<>();
  private TestSecrets secrets;

  @AfterEach
  void stopNodes() throws InterruptedException {
    for (NodeJvm n : nodes) {
      n.stop();
    }
  }

  @Test
  void nodesFoundByMdnsOnLoopbackFormOneGroup() throws Exception {
    // A cluster name of its own: another run's nodes on this machine are not counted.
    String cluster = "mdns-" + UUID.randomUUID();
    secrets = TestSecrets.create(dir.resolve("secrets"), List.of("n1", "n2", "n3"));
    for (int i = 1; i <= 3; i++) {
      int http = Ports.take();
      nodes.add(
          NodeJvm.start(
              "n" + i,
              dir.resolve("n" + i + ".log"),
              "https://127.0.0.1:" + http,
              List.of(),
              List.of(
                  "node",
                  "--id=n" + i,
                  "--discovery=mdns",
                  "--cluster=" + cluster,
                  "--raft=127.0.0.1:" + Ports.take(),
                  "--mdns-interface=127.0.0.1",
                  "--bootstrap-expect=3",
                  "--http=127.0.0.1:" + http,
                  "--data=" + dir.resolve("n" + i),
                  "--slots=2",
                  "--tls=" + secrets.nodesDir()),
              Map.of(),
              secrets));
    }
    assertOneGroupRunsAPipeline(List.of("n1", "n2", "n3"));
  }

  @Test
  void podsConfiguredAsTheStatefulSetFormOneGroupThroughTheKubernetesApi() throws Exception {
    StatefulSet sts = Serialization.unmarshal(Files.readString(STATEFUL_SET), StatefulSet.class);
    Container container = sts.getSpec().getTemplate().getSpec().getContainers().get(0);
    String service = sts.getSpec().getServiceName();
    var hosts = new StringBuilder("127.0.0.1 localhost");
    var names = new ArrayList<String>();
    for (int i = 0; i < sts.getSpec().getReplicas(); i++) {
      names.add(sts.getMetadata().getName() + "-" + i);
    }
    // As deploy/README.md makes them: grit tls init --nodes 3 --dns '*.grit-headless.NS.svc...'.
    secrets =
        TestSecrets.create(
            dir.resolve("secrets"), names, List.of("*." + service + "." + NAMESPACE + ".svc.cluster.local"));
    assertTrue(
        container.getArgs().stream().anyMatch(a -> a.startsWith("--tls=")),
        "the StatefulSet's nodes speak TLS");
    for (int i = 0; i < sts.getSpec().getReplicas(); i++) {
      String pod = names.get(i);
      // As the StatefulSet controller makes it, except that each pod's ports are free ports on
      // this machine: three members share one loopback address here.
      int raft = Ports.take();
      int http = Ports.take();
      Container podContainer =
          new ContainerBuilder(container)
              .withPorts()
              .addNewPort()
              .withName("raft")
              .withContainerPort(raft)
              .endPort()
              .addNewPort()
              .withName("http")
              .withContainerPort(http)
              .endPort()
              .build();
      client
          .pods()
          .inNamespace(NAMESPACE)
          .resource(
              new PodBuilder()
                  .withNewMetadata()
                  .withName(pod)
                  .withNamespace(NAMESPACE)
                  .withLabels(sts.getSpec().getTemplate().getMetadata().getLabels())
                  .endMetadata()
                  .withSpec(sts.getSpec().getTemplate().getSpec())
                  .editSpec()
                  .withHostname(pod)
                  .withSubdomain(service)
                  .withContainers(podContainer)
                  .endSpec()
                  .withNewStatus()
                  .withPhase("Running")
                  .withPodIP("127.0.0.1")
                  .endStatus()
                  .build())
          .create();
      hosts.append(' ').append(pod).append('.').append(service).append('.').append(NAMESPACE).append(".svc.cluster.local");
      Map<String, String> downward = downwardApi(container, pod);
      var args = new ArrayList<String>();
      for (String arg : container.getArgs()) {
        args.add(override(expand(arg, downward), http, dir.resolve(pod), secrets.nodesDir()));
      }
      var env = new HashMap<>(downward);
      env.put("KUBERNETES_MASTER", client.getMasterUrl().toString().replace("localhost", "127.0.0.1"));
      env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
      env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
      // The mock server's certificate is self-signed; in a pod the service account's CA is used.
      env.put("KUBERNETES_TRUST_CERTIFICATES", "true");
      // The base runs unprivileged, with the plain output directory.
      env.put("GRIT_OUTPUT", "plain");
      nodes.add(
          NodeJvm.start(
              pod,
              dir.resolve(pod + ".log"),
              "https://127.0.0.1:" + http,
              List.of("-Djdk.net.hosts.file=" + dir.resolve("hosts")),
              args,
              env,
              secrets));
    }
    // The headless Service's DNS names of the pods, resolved to loopback for these JVMs only.
    Files.writeString(dir.resolve("hosts"), hosts + "\n");
    assertOneGroupRunsAPipeline(names);
    JsonNode status = JSON.readTree(nodes.get(0).get("/v1/cluster"));
    for (JsonNode m : status.path("members")) {
      String id = m.path("id").asText();
      assertTrue(
          m.path("raft_address").asText().startsWith(id + "." + service + "." + NAMESPACE + ".svc.cluster.local:"),
          m.toString());
    }
  }

  /** The values the downward API gives the container's env, for pod {@code pod}. */
  private static Map<String, String> downwardApi(Container container, String pod) {
    var env = new HashMap<String, String>();
    for (EnvVar e : container.getEnv()) {
      if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        String field = e.getValueFrom().getFieldRef().getFieldPath();
        env.put(
            e.getName(),
            switch (field) {
              case "metadata.name" -> pod;
              case "metadata.namespace" -> NAMESPACE;
              default -> throw new AssertionError("unexpected downward API field " + field);
            });
      }
    }
    return env;
  }

  /** Kubernetes' {@code $(VAR)} expansion of container args. */
  private static String expand(String arg, Map<String, String> env) {
    Matcher m = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)").matcher(arg);
    var out = new StringBuilder();
    while (m.find()) {
      String value = env.get(m.group(1));
      if (value == null) {
        throw new AssertionError(arg + " refers to " + m.group(1) + ", which the pod does not define");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    return m.appendTail(out).toString();
  }

  /**
   * What must differ on one machine: listen on loopback only, each member's own directory, and the
   * Secret's mount is a directory of this test's.
   */
  private static String override(String arg, int http, Path data, Path tls) {
    if (arg.startsWith("--tls=")) {
      return "--tls=" + tls;
    } else if (arg.startsWith("--bind=")) {
      return "--bind=127.0.0.1";
    } else if (arg.startsWith("--http=")) {
      return "--http=127.0.0.1:" + http;
    } else if (arg.startsWith("--data=")) {
      return "--data=" + data;
    }
    return arg;
  }

  private void assertOneGroupRunsAPipeline(List<String> ids) throws Exception {
    for (NodeJvm n : nodes) {
      n.awaitReady(Duration.ofSeconds(120));
    }
    String leader = null;
    for (NodeJvm n : nodes) {
      JsonNode status = JSON.readTree(n.get("/v1/cluster"));
      var members = new TreeSet<String>();
      status.path("members").forEach(m -> members.add(m.path("id").asText()));
      assertEquals(new TreeSet<>(ids), members, n.tail());
      if (leader == null) {
        leader = status.path("leader").asText();
      }
      assertEquals(leader, status.path("leader").asText(), "one leader for all");
    }
    Path manifest = dir.resolve("fan.toml");
    Files.writeString(manifest, ClusterRunTest.MANIFEST);
    var servers = String.join(",", nodes.stream().map(NodeJvm::url).toList());
    var submitted = new Grit(dir, secrets.clientEnv()).run("submit", manifest.toString(), "--server", servers, "--wait");
    assertEquals(0, submitted.exit(), submitted::toString);
  }
}
