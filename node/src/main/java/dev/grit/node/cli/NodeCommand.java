package dev.grit.node.cli;

import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.discovery.KubernetesDiscovery;
import dev.grit.discovery.MdnsDiscovery;
import dev.grit.discovery.PeerAddress;
import dev.grit.discovery.PeerDiscovery;
import dev.grit.discovery.StaticDiscovery;
import dev.grit.node.Bootstrap;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.NodeSecurity;
import dev.grit.node.auth.Tokens;
import dev.grit.node.api.ApiServer;
import dev.grit.node.api.EventStreamLimits;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/** {@code grit node}: one member of a cluster, serving the HTTP API until it is stopped. */
@Command(
    name = "node",
    description = "Run one member of a grit cluster (until SIGTERM or Ctrl-C).",
    mixinStandardHelpOptions = true)
final class NodeCommand implements Callable<Integer> {
  /** How a node finds its peers. */
  enum DiscoveryKind {
    STATIC,
    MDNS,
    K8S
  }

  @Option(names = "--id", required = true, description = "This node's stable id (never an address).")
  String id;

  @Option(
      names = "--discovery",
      paramLabel = "static|mdns|k8s",
      converter = DiscoveryKindConverter.class,
      description = "How peers are found (default: static, from --peers).")
  DiscoveryKind discovery = DiscoveryKind.STATIC;

  @Option(
      names = "--peers",
      paramLabel = "ID=HOST:PORT,...",
      description = "static: every member's Raft address, this one included.")
  String peers;

  @Option(
      names = "--raft",
      paramLabel = "HOST:PORT",
      description = "mdns: this node's Raft address, advertised to the others.")
  String raft;

  @Option(
      names = "--raft-port",
      paramLabel = "PORT",
      description = "k8s: the Raft port when a pod names none (default: 9870).")
  int raftPort = 9870;

  @Option(
      names = "--bind",
      paramLabel = "HOST",
      description = "Where the Raft server listens (default: the host of this node's Raft address).")
  String bind;

  @Option(
      names = "--bootstrap-expect",
      paramLabel = "N",
      description = {
        "A new node waits for N peers (itself included) before the group is formed by the N lowest",
        "ids; later nodes join it. Default: the size of --peers, or 3 with mdns and k8s."
      })
  Integer bootstrapExpect;

  @Option(
      names = "--mdns-interface",
      paramLabel = "ADDRESS",
      description = "mdns: the address of the interface to announce and listen on (default: the --raft host).")
  String mdnsInterface;

  @Option(
      names = "--k8s-namespace",
      paramLabel = "NS",
      description = "k8s: the namespace of the StatefulSet's pods (default: the client's namespace).")
  String k8sNamespace;

  @Option(
      names = "--k8s-selector",
      paramLabel = "LABELS",
      description = "k8s: label selector of the StatefulSet's pods (default: app.kubernetes.io/name=grit).")
  String k8sSelector = "app.kubernetes.io/name=grit";

  @Option(
      names = "--k8s-service",
      paramLabel = "NAME",
      description = "k8s: the headless Service giving the pods DNS names (default: grit-headless).")
  String k8sService = "grit-headless";

  @Option(
      names = "--k8s-cluster-domain",
      paramLabel = "DOMAIN",
      description = "k8s: the cluster's DNS domain (default: cluster.local).")
  String k8sClusterDomain = "cluster.local";

  @Option(
      names = "--http",
      required = true,
      paramLabel = "HOST:PORT",
      description = "Where the HTTP API listens.")
  String http;

  @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data directory.")
  Path data;

  @Option(
      names = "--slots",
      paramLabel = "N",
      description = "Attempts run here at once (default: the number of CPUs).")
  int slots = Runtime.getRuntime().availableProcessors();

  @Option(names = "--cluster", paramLabel = "NAME", description = "Cluster name (default: grit).")
  String cluster = "grit";

  @Option(
      names = "--leader-runs-tasks",
      description = "Let the leader run attempts while followers are live.")
  boolean leaderRunsTasks;

  @Option(
      names = "--node-timeout",
      paramLabel = "SECONDS",
      description = "Silence after which a node's attempts run elsewhere (default: 10).")
  long nodeTimeoutSeconds = NodeConfig.DEFAULT_NODE_TIMEOUT.toSeconds();

  @Option(
      names = "--shutdown-grace",
      paramLabel = "SECONDS",
      description = "On SIGTERM, how long running attempts may finish before they are handed back (default: 30).")
  long shutdownGraceSeconds = 30;

  @Option(
      names = "--tls",
      paramLabel = "DIR",
      description = {
        "This member's TLS material, made by grit tls init: DIR/ca.crt (the cluster's CA),",
        "DIR/ID.crt and DIR/ID.key (or DIR/tls.crt and DIR/tls.key). Members then speak mutual TLS",
        "on the Raft port and the API speaks HTTPS; changed files are put to use without a restart."
      })
  Path tlsDir;

  @Option(
      names = "--tokens",
      paramLabel = "FILE",
      description = {
        "The API's tokens file: hashes and roles from grit token new (default with --tls: DIR/tokens).",
        "Every route but /livez and /readyz then takes a bearer token; reloaded when it changes."
      })
  Path tokensFile;

  @Option(
      names = "--insecure",
      description = "Run without TLS or tokens on an address other than loopback (warned about once).")
  boolean insecure;

  @Option(
      names = "--max-event-streams",
      paramLabel = "N",
      description = "Run event streams (watchers) this node serves at once; more are answered 503 (default: 256).")
  int maxEventStreams = EventStreamLimits.DEFAULT.maxStreams();

  @Option(
      names = "--retain",
      paramLabel = "AGE",
      description =
          "While leading, forget every hour the runs that ended longer ago than AGE (e.g. 30d), as"
              + " grit gc does (default: keep everything).")
  String retain;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (maxEventStreams < 1) {
      throw new ParameterException(spec.commandLine(), "--max-event-streams must be at least 1");
    }
    NodeSecurity security = security();
    // Discovery stays open while the node runs: it keeps advertising this node, so nodes that
    // start later find the group and join it.
    try (PeerDiscovery found = discovery()) {
      int expected = bootstrapExpect != null ? bootstrapExpect : defaultExpected(found);
      System.err.printf(
          "grit: node %s finding its peers (%s, %d expected)%n",
          id, discovery.name().toLowerCase(java.util.Locale.ROOT), expected);
      List<Peer> raftPeers =
          Bootstrap.peers(cluster, id, found, expected, data, Duration.ofMinutes(10), security.tls());
      found.onChange(now -> System.err.printf("grit: node %s: discovery now sees %s%n", id, now));
      return serve(raftPeers, security);
    }
  }

  /**
   * The node's TLS material and tokens, checked before anything starts; refuses to run without
   * them on an address other than loopback unless told {@code --insecure}.
   */
  private NodeSecurity security() throws Exception {
    MemberTls tls = null;
    Tokens tokens = null;
    if (tlsDir != null) {
      tls = MemberTls.load(tlsDir, id);
      tls.verify(Instant.now());
    }
    Path tokenPath = tokensFile != null ? tokensFile : tlsDir != null ? tlsDir.resolve("tokens") : null;
    if (tokenPath != null) {
      tokens = Tokens.load(tokenPath);
    }
    if (tls == null || tokens == null) {
      String missing = tls == null ? "TLS (--tls DIR, from grit tls init)" : "tokens (--tokens FILE)";
      for (String exposed : exposedAddresses()) {
        if (insecure) {
          System.err.printf(
              "grit: WARNING: node %s listens on %s without %s (--insecure): whoever reaches it can"
                  + " run scripts on every member and read every object%n",
              id, exposed, missing);
          break;
        }
        throw new ParameterException(
            spec.commandLine(),
            exposed + " is not a loopback address: give the node " + missing
                + ", or pass --insecure to run it open");
      }
    }
    return new NodeSecurity(tls, tokens);
  }

  /** The addresses this node would listen on (or be reached at) beyond loopback. */
  private List<String> exposedAddresses() {
    var hosts = new java.util.ArrayList<String>();
    hosts.add(hostPort("--http", http).getHostString());
    if (bind != null) {
      hosts.add(bind);
    } else if (discovery == DiscoveryKind.STATIC && peers != null) {
      for (String entry : peers.split(",")) {
        int eq = entry.indexOf('=');
        if (eq > 0 && entry.substring(0, eq).trim().equals(id)) {
          hosts.add(hostPort("--peers", entry.substring(eq + 1).trim()).getHostString());
        }
      }
    } else if (discovery == DiscoveryKind.MDNS && raft != null) {
      hosts.add(hostPort("--raft", raft).getHostString());
    } else if (discovery == DiscoveryKind.K8S) {
      hosts.add("the pod's address");
    }
    return hosts.stream().filter(h -> !isLoopback(h)).distinct().toList();
  }

  static boolean isLoopback(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private int serve(List<Peer> raftPeers, NodeSecurity security) throws Exception {
    InetSocketAddress httpSpec = hostPort("--http", http);
    // Bound before anything else starts: a taken port stops the node at once, and with port 0
    // the node registers (and prints) the port it got.
    ServerSocketChannel listening =
        ApiServer.listen(new InetSocketAddress(httpSpec.getHostString(), httpSpec.getPort()));
    try {
      return serve(raftPeers, security, httpSpec, listening);
    } finally {
      listening.close();
    }
  }

  private int serve(
      List<Peer> raftPeers,
      NodeSecurity security,
      InetSocketAddress httpSpec,
      ServerSocketChannel listening)
      throws Exception {
    var bindHttp = (InetSocketAddress) listening.getLocalAddress();
    // Peers fetch chunks from the address a node registers: a wildcard bind is reached through
    // the host the node's Raft address names.
    String httpHost =
        bindHttp.getAddress() != null && bindHttp.getAddress().isAnyLocalAddress()
            ? raftPeers.stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow().host()
            : httpSpec.getHostString();
    var config =
        new NodeConfig(
            cluster,
            id,
            raftPeers,
            data,
            httpHost + ":" + bindHttp.getPort(),
            slots,
            leaderRunsTasks,
            Duration.ofSeconds(nodeTimeoutSeconds),
            bind,
            security);
    Duration retainFor = retain == null ? null : dev.grit.engine.manifest.Durations.parse(retain);
    Node node = Node.start(config, InstantSource.system(), Main::fatal);
    var retention =
        retainFor == null
            ? null
            : new dev.grit.node.schedule.Retention(node.raft(), retainFor, InstantSource.system());
    if (retention != null) {
      retention.start();
    }
    ApiServer api;
    try {
      api =
          ApiServer.start(
              node, listening, EventStreamLimits.DEFAULT.withMaxStreams(maxEventStreams));
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    // SIGTERM (and Ctrl-C) start a graceful stop on the main thread, which then exits 0.
    var stop = new CountDownLatch(1);
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> stop.countDown());
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> stop.countDown());
    System.err.printf(
        "grit: node %s serving %s://%s (raft %s%s, outputs via %s)%n",
        id,
        security.tls() != null ? "https" : "http",
        config.httpAddress(),
        raftAddressOf(config),
        security.tls() != null ? " with mutual TLS" : "",
        node.outputMode());
    stop.await();
    System.err.printf("grit: node %s stopping%n", id);
    try {
      node.drain(Duration.ofSeconds(shutdownGraceSeconds));
    } catch (Exception e) {
      System.err.println("grit: graceful stop incomplete: " + e);
    } finally {
      if (retention != null) {
        retention.close();
      }
      api.close();
      node.close();
    }
    return Main.OK;
  }

  private static String raftAddressOf(NodeConfig config) {
    return config.peers().stream()
        .filter(p -> p.id().equals(config.id()))
        .findFirst()
        .map(Peer::address)
        .orElse("?");
  }

  private PeerDiscovery discovery() throws IOException {
    return switch (discovery) {
      case STATIC -> {
        if (peers == null) {
          throw new ParameterException(spec.commandLine(), "--discovery static needs --peers");
        }
        yield StaticDiscovery.parse(peers);
      }
      case MDNS -> {
        if (raft == null) {
          throw new ParameterException(spec.commandLine(), "--discovery mdns needs --raft HOST:PORT");
        }
        InetSocketAddress own = hostPort("--raft", raft);
        var self = new PeerAddress(id, own.getHostString(), own.getPort());
        String iface = mdnsInterface != null ? mdnsInterface : own.getHostString();
        yield new MdnsDiscovery(cluster, self, InetAddress.getByName(iface));
      }
      case K8S ->
          KubernetesDiscovery.fromEnvironment(
              k8sNamespace, k8sSelector, k8sService, k8sClusterDomain, raftPort);
    };
  }

  private int defaultExpected(PeerDiscovery found) {
    return discovery == DiscoveryKind.STATIC ? found.current().size() : 3;
  }

  static InetSocketAddress hostPort(String option, String value) {
    int colon = value.lastIndexOf(':');
    int port = -1;
    try {
      port = colon > 0 ? Integer.parseInt(value.substring(colon + 1)) : -1;
    } catch (NumberFormatException e) {
      // reported below
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(option + " " + value + " is not HOST:PORT");
    }
    return InetSocketAddress.createUnresolved(value.substring(0, colon), port);
  }

  /** Accepts the discovery kinds in lower case, as they are written everywhere else. */
  static final class DiscoveryKindConverter implements CommandLine.ITypeConverter<DiscoveryKind> {
    @Override
    public DiscoveryKind convert(String value) {
      try {
        return DiscoveryKind.valueOf(value.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not one of static, mdns, k8s");
      }
    }
  }
}
