package dev.grit.node.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Element;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The Kubernetes manifests under {@code deploy/}: every object is valid against fabric8's model,
 * the kustomizations hang together, and the StatefulSet, Services, RBAC and budget say what a
 * grit cluster needs (see deploy/README.md). No cluster and no kubectl: files only.
 */
class DeployManifestsTest {
  /** The arguments of {@code grit node} in the StatefulSet, exactly. */
  static final List<String> NODE_ARGS =
      List.of(
          "node",
          "--id=$(POD_NAME)",
          "--discovery=k8s",
          "--k8s-namespace=$(POD_NAMESPACE)",
          "--k8s-selector=app.kubernetes.io/name=grit",
          "--k8s-service=grit-headless",
          "--bootstrap-expect=3",
          "--bind=0.0.0.0",
          "--raft-port=9870",
          "--http=0.0.0.0:8080",
          "--data=/var/lib/grit",
          "--node-timeout=10",
          "--shutdown-grace=30",
          "--tls=/etc/grit/tls");

  static final Map<String, String> POD_LABELS = Map.of("app.kubernetes.io/name", "grit");
  /** The Secret of the nodes' certificates and tokens, made as deploy/README.md says. */
  static final String SECRET = "grit-tls";
  static final String KUSTOMIZATION = "kustomization.yaml";
  static final YAMLMapper YAML = new YAMLMapper();

  static Path root; // the project root
  static Path deploy;
  static Path base;
  static Path fuse;
  static Map<Path, List<HasMetadata>> baseObjects;

  @BeforeAll
  static void locate() throws IOException {
    // Tests run in the node module; walk up to the directory that holds deploy/.
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("deploy/kubernetes"))) {
      dir = dir.getParent();
    }
    assertNotNull(dir, "no deploy/kubernetes above " + Path.of("").toAbsolutePath());
    root = dir;
    deploy = dir.resolve("deploy");
    base = deploy.resolve("kubernetes/base");
    fuse = deploy.resolve("kubernetes/overlays/fuse");
    baseObjects = objectsOf(base);
  }

  // ---- every file ------------------------------------------------------------------------------

  @TestFactory
  Stream<DynamicTest> everyManifestParsesStrictly() throws IOException {
    List<Path> manifests = yamlFiles().stream().filter(p -> !isKustomization(p)).toList();
    assertFalse(manifests.isEmpty(), "no manifests under " + deploy);
    return manifests.stream()
        .map(
            file ->
                DynamicTest.dynamicTest(
                    root.relativize(file).toString(),
                    () -> assertFalse(StrictManifests.read(file).isEmpty(), file + " is empty")));
  }

  @Test
  void everyManifestBelongsToAKustomization() throws IOException {
    Set<Path> listed = new HashSet<>();
    for (Path k : yamlFiles().stream().filter(DeployManifestsTest::isKustomization).toList()) {
      Kustomization kustomization = Kustomization.read(k);
      listed.addAll(kustomization.resourceFiles());
      listed.addAll(kustomization.patchFiles());
    }
    for (Path file : yamlFiles()) {
      if (!isKustomization(file)) {
        assertTrue(listed.contains(file.normalize()), file + " is listed by no kustomization");
      }
    }
  }

  @Test
  void kustomizationsListFilesThatExist() throws IOException {
    for (Path k : yamlFiles().stream().filter(DeployManifestsTest::isKustomization).toList()) {
      Kustomization kustomization = Kustomization.read(k);
      assertFalse(kustomization.resources.isEmpty(), k + " lists no resources");
      for (Path p : kustomization.resourcePaths()) {
        assertTrue(
            Files.isRegularFile(p) || Files.isRegularFile(p.resolve(KUSTOMIZATION)),
            k + ": resource " + p + " is neither a file nor a kustomization directory");
      }
      for (Path p : kustomization.patchFiles()) {
        assertTrue(Files.isRegularFile(p), k + ": patch " + p + " does not exist");
      }
    }
  }

  @Test
  void overlayPatchesTargetObjectsOfTheBase() throws IOException {
    Kustomization overlay = Kustomization.read(fuse.resolve(KUSTOMIZATION));
    assertEquals(List.of(base), overlay.resourcePaths(), "the fuse overlay builds on the base");
    assertFalse(overlay.patches.isEmpty(), "the fuse overlay patches nothing");
    List<HasMetadata> all = baseObjects.values().stream().flatMap(List::stream).toList();
    for (Kustomization.Patch patch : overlay.patches) {
      for (HasMetadata p : StrictManifests.read(patch.file())) {
        String kind = patch.targetKind().orElse(p.getKind());
        String name = patch.targetName().orElse(p.getMetadata().getName());
        assertEquals(kind, p.getKind(), patch.file() + ": target kind differs from the patch's");
        assertEquals(name, p.getMetadata().getName(), patch.file() + ": target name differs");
        assertTrue(
            all.stream()
                .anyMatch(
                    o ->
                        o.getKind().equals(kind)
                            && o.getMetadata().getName().equals(name)
                            && o.getApiVersion().equals(p.getApiVersion())),
            patch.file() + ": no " + p.getApiVersion() + " " + kind + " " + name + " in the base");
      }
    }
  }

  // ---- the StatefulSet -------------------------------------------------------------------------

  @Test
  void statefulSetStartsThreeMembersAtOnce() {
    StatefulSet sts = the(StatefulSet.class, "grit");
    assertEquals(3, sts.getSpec().getReplicas());
    assertEquals("Parallel", sts.getSpec().getPodManagementPolicy());
    assertEquals("grit-headless", sts.getSpec().getServiceName());
    assertEquals(String.valueOf(sts.getSpec().getReplicas()), option("--bootstrap-expect"));
    assertEquals(POD_LABELS, sts.getSpec().getSelector().getMatchLabels());
    assertLabelsMatch(sts.getSpec().getSelector().getMatchLabels(), "StatefulSet selector");
    assertEquals(
        "app.kubernetes.io/name=grit",
        option("--k8s-selector"),
        "discovery's selector must be the pods' label");
    assertEquals("grit-headless", option("--k8s-service"));
  }

  @Test
  void nodeArgumentsAreExactlyTheDocumentedOnes() {
    assertEquals(NODE_ARGS, container().getArgs());
    assertTrue(
        container().getCommand() == null || container().getCommand().isEmpty(),
        "the image's entrypoint (java ... dev.grit.node.cli.Main) must not be replaced");
  }

  @Test
  void argumentsReferOnlyToDefinedVariables() {
    Map<String, EnvVar> env = env();
    Matcher m =
        Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)")
            .matcher(String.join(" ", container().getArgs()));
    Set<String> referenced = new HashSet<>();
    while (m.find()) {
      referenced.add(m.group(1));
    }
    assertEquals(Set.of("POD_NAME", "POD_NAMESPACE"), referenced);
    for (String name : referenced) {
      assertTrue(env.containsKey(name), "$(" + name + ") is not defined in env");
    }
    assertEquals("metadata.name", fieldPath(env.get("POD_NAME")));
    assertEquals("metadata.namespace", fieldPath(env.get("POD_NAMESPACE")));
  }

  @Test
  void portsAreNamedAndMatchTheOptionsAndTheServices() {
    Map<String, Integer> ports =
        container().getPorts().stream()
            .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
    assertEquals(Map.of("raft", 9870, "http", 8080), ports);
    assertEquals(String.valueOf(ports.get("raft")), option("--raft-port"));
    assertEquals("0.0.0.0:" + ports.get("http"), option("--http"));

    Service headless = the(Service.class, "grit-headless");
    assertEquals("None", headless.getSpec().getClusterIP());
    assertEquals(Boolean.TRUE, headless.getSpec().getPublishNotReadyAddresses());
    assertServicePorts(headless, ports, Set.of("raft", "http"));

    Service client = the(Service.class, "grit");
    assertNotEquals("None", client.getSpec().getClusterIP());
    assertServicePorts(client, ports, Set.of("http"));
  }

  @Test
  void probesUseTheHealthEndpointsOverHttps() {
    Container c = container();
    assertEquals("/livez", httpGet(c.getLivenessProbe(), "liveness").getPath());
    assertEquals("/readyz", httpGet(c.getReadinessProbe(), "readiness").getPath());
    // Liveness must never depend on the group, or a lost quorum would restart every member.
    assertEquals("/livez", httpGet(c.getStartupProbe(), "startup").getPath());
    for (Probe p : List.of(c.getLivenessProbe(), c.getReadinessProbe(), c.getStartupProbe())) {
      assertEquals(new IntOrString("http"), p.getHttpGet().getPort(), "probes use the named port");
      assertEquals("HTTPS", p.getHttpGet().getScheme(), "the API speaks HTTPS only");
      assertTrue(
          p.getHttpGet().getHttpHeaders() == null || p.getHttpGet().getHttpHeaders().isEmpty(),
          "the probes are open: no token in the manifest");
      assertTrue(p.getExec() == null, "HTTP probes: the node serves its health itself");
    }
    // The node waits up to a minute for a leader, then catches up: give it several minutes.
    Probe startup = c.getStartupProbe();
    assertTrue(
        startup.getPeriodSeconds() * startup.getFailureThreshold() >= 300,
        "startup budget too short for a member that catches up");
  }

  @Test
  void credentialsComeFromASecretMountedReadOnly() {
    String dir = option("--tls");
    VolumeMount mount =
        container().getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals(dir))
            .findFirst()
            .orElseThrow(() -> new AssertionError("nothing mounted at --tls " + dir));
    assertEquals(Boolean.TRUE, mount.getReadOnly(), "the credentials are mounted read-only");
    assertTrue(
        mount.getSubPath() == null || mount.getSubPath().isEmpty(),
        "a subPath mount is never updated: rotation needs the whole directory");
    Volume tls = volume(mount.getName());
    assertNotNull(tls.getSecret(), "the credentials come from a Secret");
    assertEquals(SECRET, tls.getSecret().getSecretName());
    int mode = tls.getSecret().getDefaultMode();
    assertEquals(0, mode & 0007, "keys readable by others: " + Integer.toOctalString(mode));
    assertTrue((mode & 0040) != 0, "readable by the pod's fsGroup: " + Integer.toOctalString(mode));
    assertTrue(all(io.fabric8.kubernetes.api.model.Secret.class).isEmpty(), "keys never go into the manifests");
    assertTrue(option("--http").startsWith("0.0.0.0:"), "listens beyond loopback, so TLS is a must");
    assertFalse(container().getArgs().contains("--insecure"));

    Map<String, EnvVar> env = env();
    assertTrue(env.get("GRIT_ADDR").getValue().startsWith("https://"), "client commands in the pod use HTTPS");
    assertEquals(dir + "/ca.crt", env.get("GRIT_CACERT").getValue());
    assertFalse(env.containsKey("GRIT_TOKEN"), "no token in the pod's environment");
    var annotations = the(StatefulSet.class, "grit").getSpec().getTemplate().getMetadata().getAnnotations();
    assertEquals("https", annotations.get("prometheus.io/scheme"));
  }

  /**
   * deploy/README.md's commands, run as written (in a scratch directory), make the Secret the
   * StatefulSet mounts: a certificate for every pod, valid for its name under the headless
   * Service in the base's namespace, the CA, and the tokens file the node reads.
   */
  @Test
  void theReadmesCommandsMakeTheSecretTheStatefulSetMounts(@TempDir Path scratch) throws Exception {
    List<String> lines =
        Files.readAllLines(deploy.resolve("README.md")).stream().map(String::strip).toList();
    List<String> grit =
        lines.stream()
            .filter(l -> l.startsWith("./grit tls init ") || l.startsWith("./grit token new "))
            .toList();
    assertTrue(grit.stream().anyMatch(l -> l.startsWith("./grit tls init ")), "README: no grit tls init");
    assertTrue(grit.stream().anyMatch(l -> l.startsWith("./grit token new ")), "README: no grit token new");
    String secretLine =
        lines.stream()
            .filter(l -> l.contains("create secret generic"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("README: no kubectl create secret"));
    Matcher secret =
        Pattern.compile("create secret generic (\\S+) --from-file=(\\S+)").matcher(secretLine);
    assertTrue(secret.find(), secretLine);
    assertEquals(SECRET, secret.group(1), "README's Secret is the one the StatefulSet mounts");
    String namespace = Kustomization.read(base.resolve(KUSTOMIZATION)).namespace;
    assertTrue(secretLine.contains("-n " + namespace + " "), "README's Secret goes into " + namespace + ": " + secretLine);

    for (String line : grit) {
      List<String> args = new ArrayList<>();
      for (String word : words(line.substring("./grit ".length()))) {
        if (word.equals(">")) {
          break; // the token goes to a file of the user's
        }
        args.add(word.startsWith("grit-tls") ? scratch.resolve(word).toString() : word);
      }
      assertEquals(0, dev.grit.node.cli.Main.execute(args.toArray(new String[0])), line);
    }
    Path nodes = scratch.resolve(secret.group(2));
    StatefulSet sts = the(StatefulSet.class, "grit");
    String service = sts.getSpec().getServiceName();
    for (int i = 0; i < sts.getSpec().getReplicas(); i++) {
      String pod = sts.getMetadata().getName() + "-" + i;
      var tls = dev.grit.consensus.tls.MemberTls.load(nodes, pod);
      tls.verify(java.time.Instant.now());
      String name = pod + "." + service + "." + namespace + ".svc.cluster.local";
      boolean covered = false;
      for (List<?> san : tls.certificate().getSubjectAlternativeNames()) {
        String dns = san.get(1).toString();
        // A wildcard stands for one label: the pod's name.
        covered |=
            dns.equals(name)
                || (dns.startsWith("*.") && name.substring(name.indexOf('.') + 1).equals(dns.substring(2)));
      }
      assertTrue(covered, pod + "'s certificate does not name " + name);
    }
    var tokens = dev.grit.node.auth.Tokens.load(nodes.resolve("tokens"));
    assertTrue(tokens.size() >= 1, "README makes no token");
  }

  /** A command line split as the shell would: words, single-quoted words kept whole. */
  static List<String> words(String line) {
    var out = new ArrayList<String>();
    Matcher m = Pattern.compile("'([^']*)'|(\\S+)").matcher(line);
    while (m.find()) {
      out.add(m.group(1) != null ? m.group(1) : m.group(2));
    }
    return out;
  }

  @Test
  void dataVolumeIsMountedWhereTheNodeKeepsItsData() {
    StatefulSet sts = the(StatefulSet.class, "grit");
    assertEquals(1, sts.getSpec().getVolumeClaimTemplates().size());
    var claim = sts.getSpec().getVolumeClaimTemplates().get(0);
    assertEquals("data", claim.getMetadata().getName());
    assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
    assertNotNull(claim.getSpec().getResources().getRequests().get("storage"));
    assertEquals(option("--data"), mountPath("data"));
    var retention = sts.getSpec().getPersistentVolumeClaimRetentionPolicy();
    assertEquals("Retain", retention.getWhenScaled());
    assertEquals("Retain", retention.getWhenDeleted());
  }

  @Test
  void runsAsNonRootWithAReadOnlyRootAndNoCapabilities() {
    PodSpec pod = podSpec();
    var podSecurity = pod.getSecurityContext();
    assertEquals(Boolean.TRUE, podSecurity.getRunAsNonRoot());
    assertNotNull(podSecurity.getRunAsUser());
    assertNotEquals(0L, podSecurity.getRunAsUser());
    assertNotNull(podSecurity.getFsGroup(), "the data volume must be writable by the user");
    assertEquals("RuntimeDefault", podSecurity.getSeccompProfile().getType());

    var security = container().getSecurityContext();
    assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
    assertTrue(security.getPrivileged() == null || !security.getPrivileged());
    assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
    List<String> added = security.getCapabilities().getAdd();
    assertTrue(added == null || added.isEmpty(), "no capabilities added: " + added);
    assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
    // Native libraries are extracted to /tmp and loaded from there: a writable emptyDir.
    Volume tmp = volume(volumeNameAt("/tmp"));
    assertNotNull(tmp.getEmptyDir(), "/tmp must be an emptyDir");
    assertTrue(
        tmp.getEmptyDir().getMedium() == null || tmp.getEmptyDir().getMedium().isEmpty(),
        "/tmp on disk: a memory medium would count against the memory limit");
    assertTrue(
        pod.getVolumes().stream().noneMatch(v -> v.getHostPath() != null),
        "the base uses no host paths");
  }

  @Test
  void stopsGracefullyWithinTheTerminationGracePeriod() {
    long grace = Long.parseLong(option("--shutdown-grace"));
    long period = podSpec().getTerminationGracePeriodSeconds();
    assertTrue(
        period >= grace + 15,
        "terminationGracePeriodSeconds "
            + period
            + " leaves too little beyond --shutdown-grace "
            + grace);
  }

  @Test
  void heapIsAShareOfTheMemoryLimit() {
    var resources = container().getResources();
    assertNotNull(resources.getRequests().get("cpu"));
    assertNotNull(resources.getRequests().get("memory"));
    Quantity limit = resources.getLimits().get("memory");
    assertNotNull(limit, "a memory limit");
    assertTrue(
        Quantity.getAmountInBytes(limit).longValue() >= 1L << 30, "at least 1 GiB: " + limit);
    String opts = env().get("JAVA_TOOL_OPTIONS").getValue();
    Matcher m = Pattern.compile("-XX:MaxRAMPercentage=(\\d+(\\.\\d+)?)").matcher(opts);
    assertTrue(m.find(), "the heap is sized against the limit: " + opts);
    double percent = Double.parseDouble(m.group(1));
    assertTrue(percent >= 25 && percent <= 60, "heap share " + percent + "% of " + limit);
    assertFalse(opts.contains("-Xmx"), "a fixed -Xmx would ignore the limit");
  }

  @Test
  void membersPreferDifferentMachines() {
    var terms =
        podSpec()
            .getAffinity()
            .getPodAntiAffinity()
            .getPreferredDuringSchedulingIgnoredDuringExecution();
    assertFalse(terms.isEmpty());
    var term = terms.get(0).getPodAffinityTerm();
    assertEquals("kubernetes.io/hostname", term.getTopologyKey());
    assertLabelsMatch(term.getLabelSelector().getMatchLabels(), "anti-affinity selector");
  }

  @Test
  void imageIsTheOneTheBuildMakes() throws Exception {
    var pom =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(root.resolve("pom.xml").toFile());
    String version = null;
    for (var n = pom.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals("version")) {
        version = e.getTextContent().trim();
      }
    }
    assertEquals(
        "grit:" + version, container().getImage(), "see the image profile in node/pom.xml");
    assertEquals("IfNotPresent", container().getImagePullPolicy());
  }

  // ---- RBAC and the disruption budget ----------------------------------------------------------

  @Test
  void discoveryMayOnlyReadPods() throws IOException {
    String account = podSpec().getServiceAccountName();
    assertNotNull(the(ServiceAccount.class, account));

    RoleBinding binding = only(RoleBinding.class);
    assertEquals("Role", binding.getRoleRef().getKind());
    Role role = the(Role.class, binding.getRoleRef().getName());
    assertEquals(1, binding.getSubjects().size());
    var subject = binding.getSubjects().get(0);
    assertEquals("ServiceAccount", subject.getKind());
    assertEquals(account, subject.getName());
    // kustomize fills in the kustomization's namespace; a literal one would survive an overlay's.
    assertTrue(subject.getNamespace() == null, "the subject's namespace is left to kustomize");
    assertNotNull(
        Kustomization.read(base.resolve(KUSTOMIZATION)).namespace, "the base's namespace");

    assertEquals(1, role.getRules().size());
    PolicyRule rule = role.getRules().get(0);
    assertEquals(List.of(""), rule.getApiGroups());
    assertEquals(List.of("pods"), rule.getResources());
    assertEquals(Set.of("get", "list", "watch"), Set.copyOf(rule.getVerbs()));
    assertEquals(3, rule.getVerbs().size());
    assertTrue(rule.getResourceNames() == null || rule.getResourceNames().isEmpty());
  }

  @Test
  void disruptionBudgetKeepsAQuorum() {
    PodDisruptionBudget pdb = only(PodDisruptionBudget.class);
    assertEquals(new IntOrString(1), pdb.getSpec().getMaxUnavailable());
    assertTrue(pdb.getSpec().getMinAvailable() == null, "maxUnavailable only");
    assertLabelsMatch(pdb.getSpec().getSelector().getMatchLabels(), "budget selector");
  }

  // ---- the FUSE overlay ------------------------------------------------------------------------

  @Test
  void fuseOverlayGrantsTheDeviceAndTheMountPrivilege() throws IOException {
    Kustomization overlay = Kustomization.read(fuse.resolve(KUSTOMIZATION));
    List<HasMetadata> patched = new ArrayList<>();
    for (Kustomization.Patch p : overlay.patches) {
      patched.addAll(StrictManifests.read(p.file()));
    }
    StatefulSet patch =
        patched.stream()
            .filter(StatefulSet.class::isInstance)
            .map(StatefulSet.class::cast)
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("the fuse overlay does not patch the StatefulSet"));
    PodSpec pod = patch.getSpec().getTemplate().getSpec();
    Container c =
        pod.getContainers().stream()
            .filter(x -> x.getName().equals(container().getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("the patch names no container of the base"));

    var security = c.getSecurityContext();
    boolean privileged = Boolean.TRUE.equals(security.getPrivileged());
    boolean sysAdmin =
        security.getCapabilities() != null
            && security.getCapabilities().getAdd() != null
            && security.getCapabilities().getAdd().contains("SYS_ADMIN");
    assertTrue(privileged || sysAdmin, "FUSE needs SYS_ADMIN (or privileged)");
    if (privileged) {
      assertNotEquals(
          Boolean.FALSE,
          security.getAllowPrivilegeEscalation(),
          "privileged with allowPrivilegeEscalation false is rejected by the API server");
    }
    // No setuid fusermount in the image: mounting needs root.
    assertEquals(0L, pod.getSecurityContext().getRunAsUser());
    assertEquals(Boolean.FALSE, pod.getSecurityContext().getRunAsNonRoot());

    VolumeMount devFuse =
        c.getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals("/dev/fuse"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("/dev/fuse is not mounted"));
    Volume v =
        pod.getVolumes().stream()
            .filter(x -> x.getName().equals(devFuse.getName()))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no volume " + devFuse.getName()));
    assertEquals("/dev/fuse", v.getHostPath().getPath());
    assertEquals("CharDevice", v.getHostPath().getType());
  }

  // ---- helpers ---------------------------------------------------------------------------------

  static List<Path> yamlFiles() throws IOException {
    try (Stream<Path> files = Files.walk(deploy)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .map(Path::normalize)
          .sorted()
          .toList();
    }
  }

  static boolean isKustomization(Path p) {
    String n = p.getFileName().toString();
    return n.equals(KUSTOMIZATION) || n.equals("kustomization.yml") || n.equals("Kustomization");
  }

  /** The objects of a kustomization directory's own resource files, by file. */
  static Map<Path, List<HasMetadata>> objectsOf(Path dir) throws IOException {
    Map<Path, List<HasMetadata>> objects = new LinkedHashMap<>();
    for (Path file : Kustomization.read(dir.resolve(KUSTOMIZATION)).resourceFiles()) {
      objects.put(file, StrictManifests.read(file));
    }
    return objects;
  }

  static <T extends HasMetadata> List<T> all(Class<T> type) {
    return baseObjects.values().stream()
        .flatMap(List::stream)
        .filter(type::isInstance)
        .map(type::cast)
        .toList();
  }

  static <T extends HasMetadata> T the(Class<T> type, String name) {
    return all(type).stream()
        .filter(o -> o.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError("no " + type.getSimpleName() + " " + name + " in the base"));
  }

  static <T extends HasMetadata> T only(Class<T> type) {
    List<T> found = all(type);
    assertEquals(1, found.size(), "one " + type.getSimpleName() + " in the base");
    return found.get(0);
  }

  static PodSpec podSpec() {
    return the(StatefulSet.class, "grit").getSpec().getTemplate().getSpec();
  }

  static Container container() {
    List<Container> containers = podSpec().getContainers();
    assertEquals(1, containers.size(), "one container");
    return containers.get(0);
  }

  static Map<String, EnvVar> env() {
    Map<String, EnvVar> env = new HashMap<>();
    for (EnvVar e : container().getEnv()) {
      assertTrue(env.put(e.getName(), e) == null, "env " + e.getName() + " twice");
    }
    return env;
  }

  static String fieldPath(EnvVar e) {
    assertNotNull(e.getValueFrom(), e.getName() + " comes from the downward API");
    return e.getValueFrom().getFieldRef().getFieldPath();
  }

  /** The value of {@code --name=value} among the node's arguments. */
  static String option(String name) {
    return container().getArgs().stream()
        .filter(a -> a.startsWith(name + "="))
        .map(a -> a.substring(name.length() + 1))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " argument"));
  }

  static String mountPath(String volume) {
    return container().getVolumeMounts().stream()
        .filter(m -> m.getName().equals(volume))
        .map(VolumeMount::getMountPath)
        .findFirst()
        .orElseThrow(() -> new AssertionError("volume " + volume + " is not mounted"));
  }

  static String volumeNameAt(String path) {
    return container().getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .map(VolumeMount::getName)
        .findFirst()
        .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
  }

  static Volume volume(String name) {
    return podSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  static HTTPGetAction httpGet(Probe probe, String what) {
    assertNotNull(probe, "no " + what + " probe");
    assertNotNull(probe.getHttpGet(), what + " probe is not an HTTP GET");
    return probe.getHttpGet();
  }

  /** A selector selects the pods: each of its labels is on the pod template. */
  static void assertLabelsMatch(Map<String, String> selector, String what) {
    Map<String, String> podLabels =
        the(StatefulSet.class, "grit").getSpec().getTemplate().getMetadata().getLabels();
    assertFalse(selector == null || selector.isEmpty(), what + " selects everything");
    selector.forEach(
        (k, v) -> assertEquals(v, podLabels.get(k), what + ": label " + k + " not on the pods"));
  }

  static void assertServicePorts(
      Service service, Map<String, Integer> containerPorts, Set<String> names) {
    String what = "Service " + service.getMetadata().getName();
    assertLabelsMatch(service.getSpec().getSelector(), what + " selector");
    Set<String> seen = new HashSet<>();
    for (ServicePort p : service.getSpec().getPorts()) {
      assertTrue(
          containerPorts.containsKey(p.getName()), what + ": no container port " + p.getName());
      assertEquals(containerPorts.get(p.getName()), p.getPort(), what + ": port " + p.getName());
      assertEquals(
          new IntOrString(p.getName()), p.getTargetPort(), what + ": targets the named port");
      seen.add(p.getName());
    }
    assertEquals(names, seen, what + " ports");
  }

  /**
   * The parts of a kustomization.yaml used here. Unknown keys fail: kustomize would reject a
   * misspelt key, and a test that ignored it would check something kustomize does not build.
   */
  record Kustomization(Path dir, String namespace, List<String> resources, List<Patch> patches) {
    static final Set<String> KEYS =
        Set.of("apiVersion", "kind", "namespace", "resources", "patches");

    record Patch(Path file, Optional<String> targetKind, Optional<String> targetName) {}

    static Kustomization read(Path file) throws IOException {
      JsonNode k = YAML.readTree(Files.readString(file));
      List<String> unknown = new ArrayList<>();
      for (String n : k.propertyNames()) {
        if (!KEYS.contains(n)) {
          unknown.add(n);
        }
      }
      if (!unknown.isEmpty()) {
        fail(file + ": keys this test does not know: " + unknown);
      }
      assertEquals(
          "kustomize.config.k8s.io/v1beta1", k.path("apiVersion").asString(), file.toString());
      assertEquals("Kustomization", k.path("kind").asString(), file.toString());
      Path dir = file.getParent();
      List<String> resources = new ArrayList<>();
      k.path("resources").forEach(r -> resources.add(r.asString()));
      List<Patch> patches = new ArrayList<>();
      for (JsonNode p : k.path("patches")) {
        if (!p.has("path")) {
          fail(file + ": inline patches are not checked here; use a patch file");
        }
        JsonNode target = p.path("target");
        patches.add(
            new Patch(
                dir.resolve(p.path("path").asString()).normalize(),
                optional(target, "kind"),
                optional(target, "name")));
      }
      String namespace = k.has("namespace") ? k.path("namespace").asString() : null;
      return new Kustomization(dir, namespace, resources, patches);
    }

    private static Optional<String> optional(JsonNode node, String field) {
      return node.has(field) ? Optional.of(node.path(field).asString()) : Optional.empty();
    }

    List<Path> resourcePaths() {
      return resources.stream().map(r -> dir.resolve(r).normalize()).toList();
    }

    /** Resource entries that are files (not other kustomization directories). */
    List<Path> resourceFiles() {
      return resourcePaths().stream().filter(Files::isRegularFile).toList();
    }

    List<Path> patchFiles() {
      return patches.stream().map(Patch::file).toList();
    }
  }
}
