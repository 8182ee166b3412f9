package dev.grit.node.cli;

import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.discovery.PeerAddress;
import dev.grit.discovery.StaticDiscovery;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.api.ApiServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code grit node}: one member of a cluster, serving the HTTP API until it is stopped. */
@Command(
    name = "node",
    description = "Run one member of a grit cluster (until SIGTERM or Ctrl-C).",
    mixinStandardHelpOptions = true)
final class NodeCommand implements Callable<Integer> {
  @Option(names = "--id", required = true, description = "This node's stable id.")
  String id;

  @Option(
      names = "--peers",
      required = true,
      paramLabel = "ID=HOST:PORT,...",
      description = "Every member's Raft address, this one included.")
  String peers;

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

  @Override
  public Integer call() throws Exception {
    var list = StaticDiscovery.parse(peers).await(1, Duration.ZERO);
    var raftPeers = list.stream().map(NodeCommand::peer).toList();
    InetSocketAddress bind = hostPort(http);
    var config =
        new NodeConfig(
            cluster,
            id,
            raftPeers,
            data,
            bind.getHostString() + ":" + bind.getPort(),
            slots,
            leaderRunsTasks,
            Duration.ofSeconds(nodeTimeoutSeconds));
    Node node = Node.start(config, InstantSource.system(), Main::fatal);
    ApiServer api = ApiServer.start(node, bind);
    // SIGTERM (and Ctrl-C) start a graceful stop on the main thread, which then exits 0.
    var stop = new CountDownLatch(1);
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> stop.countDown());
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> stop.countDown());
    System.err.printf(
        "grit: node %s serving http://%s (raft %s, outputs via %s)%n",
        id, config.httpAddress(), raftAddressOf(config), node.outputMode());
    stop.await();
    System.err.printf("grit: node %s stopping%n", id);
    try {
      node.drain(Duration.ofSeconds(shutdownGraceSeconds));
    } catch (Exception e) {
      System.err.println("grit: graceful stop incomplete: " + e);
    } finally {
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

  private static Peer peer(PeerAddress p) {
    return new Peer(p.id(), p.host(), p.port());
  }

  static InetSocketAddress hostPort(String spec) {
    int colon = spec.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--http " + spec + " is not HOST:PORT");
    }
    return new InetSocketAddress(spec.substring(0, colon), Integer.parseInt(spec.substring(colon + 1)));
  }
}
