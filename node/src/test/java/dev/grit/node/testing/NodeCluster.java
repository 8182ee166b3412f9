package dev.grit.node.testing;

import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.RecordingFatalErrorHandler;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.execute.OutputMode;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.api.ApiServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * N full grit nodes in this JVM, on loopback, each with its own data directory: record, objects,
 * Raft log, worker and leader loop. Members start together (a majority must be up before any
 * start returns). They capture outputs in plain directories: a FUSE mount helper forked while
 * another member of the same JVM opens its sockets could inherit them (FUSE is covered by the
 * embedded and process-level tests, one node per process).
 */
public final class NodeCluster implements AutoCloseable {
  private final Path dir;
  private final List<NodeConfig> configs = new ArrayList<>();
  private final Node[] nodes;
  private final ApiServer[] apis;
  public final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
  /** The cluster's own CA, member certificates and tokens: members speak TLS, the API HTTPS. */
  public final TestSecrets secrets;

  private NodeCluster(Path dir, int n, int slots, Duration nodeTimeout) throws IOException {
    this.dir = dir;
    var peers = new ArrayList<Peer>();
    for (int i = 1; i <= n; i++) {
      peers.add(new Peer("n" + i, "127.0.0.1", Ports.take()));
    }
    this.secrets = TestSecrets.create(dir.resolve("secrets"), peers.stream().map(Peer::id).toList());
    for (Peer p : peers) {
      configs.add(
          new NodeConfig(
              "test",
              p.id(),
              peers,
              dir.resolve(p.id()),
              "127.0.0.1:" + Ports.take(),
              slots,
              false,
              nodeTimeout,
              null,
              secrets.security(p.id())));
    }
    this.nodes = new Node[n];
    this.apis = new ApiServer[n];
  }

  public static NodeCluster start(Path dir, int n, int slots) throws IOException {
    return start(dir, n, slots, NodeConfig.DEFAULT_NODE_TIMEOUT);
  }

  public static NodeCluster start(Path dir, int n, int slots, Duration nodeTimeout)
      throws IOException {
    var cluster = new NodeCluster(dir, n, slots, nodeTimeout);
    try {
      withPlainOutputs(
          () -> {
            var starts = new ArrayList<CompletableFuture<Void>>();
            for (int i = 0; i < n; i++) {
              int k = i;
              starts.add(CompletableFuture.runAsync(() -> cluster.startMember(k)));
            }
            starts.forEach(CompletableFuture::join);
          });
    } catch (CompletionException e) {
      cluster.close();
      throw new IOException("the cluster did not start: " + e.getCause(), e.getCause());
    }
    return cluster;
  }

  private void startMember(int i) {
    try {
      nodes[i] = Node.start(configs.get(i), InstantSource.system(), fatal);
      String http = configs.get(i).httpAddress();
      int colon = http.lastIndexOf(':');
      apis[i] =
          ApiServer.start(
              nodes[i],
              new java.net.InetSocketAddress(http.substring(0, colon), Integer.parseInt(http.substring(colon + 1))));
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  /** Runs {@code start} with outputs captured in plain directories (see the class comment). */
  public static void withPlainOutputs(Runnable start) {
    String before = System.getProperty(OutputMode.PROPERTY);
    System.setProperty(OutputMode.PROPERTY, "plain");
    try {
      start.run();
    } finally {
      if (before == null) {
        System.clearProperty(OutputMode.PROPERTY);
      } else {
        System.setProperty(OutputMode.PROPERTY, before);
      }
    }
  }

  public int size() {
    return nodes.length;
  }

  /** Member i (0-based), or null while it is stopped. */
  public Node node(int i) {
    return nodes[i];
  }

  public String id(int i) {
    return configs.get(i).id();
  }

  public NodeConfig config(int i) {
    return configs.get(i);
  }

  /** The base URL of member i's API. */
  public String url(int i) {
    return "https://" + configs.get(i).httpAddress();
  }

  /** Every member's API, comma-separated, as {@code --server} takes it. */
  public String urls() {
    var all = new ArrayList<String>();
    for (int i = 0; i < nodes.length; i++) {
      all.add(url(i));
    }
    return String.join(",", all);
  }

  /** The grit command line with this cluster's CA and an admin token. */
  public Grit grit(Path workDir) {
    return new Grit(workDir, secrets.clientEnv());
  }

  /** A client trusting this cluster's CA; requests get their token from {@link #request}. */
  public java.net.http.HttpClient http() {
    return secrets.http();
  }

  /** A request to {@code url} with an admin token. */
  public java.net.http.HttpRequest.Builder request(String url) {
    return secrets.request(url);
  }

  /** The index of the leader, once one is known to every running member. */
  public int leader() {
    int[] found = {-1};
    Wait.until(
        "a leader",
        Duration.ofSeconds(30),
        () -> {
          for (int i = 0; i < nodes.length; i++) {
            if (nodes[i] != null && nodes[i].raft().isLeaderReady()) {
              found[0] = i;
              return true;
            }
          }
          return false;
        },
        this::describe);
    return found[0];
  }

  /** Some running member other than the leader. */
  public int follower() {
    int leader = leader();
    for (int i = 0; i < nodes.length; i++) {
      if (i != leader && nodes[i] != null) {
        return i;
      }
    }
    throw new AssertionError("no follower is running\n" + describe());
  }

  /** Stops member i as a crash would, as far as this JVM can: nothing is handed over. */
  public void kill(int i) {
    if (apis[i] != null) {
      apis[i].close();
      apis[i] = null;
    }
    if (nodes[i] != null) {
      nodes[i].close();
      nodes[i] = null;
    }
  }

  public void restart(int i) {
    kill(i);
    // The closed server's socket may linger a moment; Ratis exits the JVM if it cannot bind.
    var me = configs.get(i).peers().stream().filter(p -> p.id().equals(id(i))).findFirst().orElseThrow();
    Wait.until(
        "port " + me.port() + " to be free",
        Duration.ofSeconds(30),
        () -> {
          try (var socket = new ServerSocket(me.port(), 1, InetAddress.getLoopbackAddress())) {
            return true;
          } catch (IOException e) {
            return false;
          }
        });
    withPlainOutputs(() -> startMember(i));
  }

  /** Restarts member i with an empty data directory, as after a lost disk. */
  public void wipeAndRestart(int i) throws IOException {
    kill(i);
    Path data = configs.get(i).dataDir();
    if (java.nio.file.Files.exists(data)) {
      try (var paths = java.nio.file.Files.walk(data)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(p);
        }
      }
    }
    restart(i);
  }

  public String describe() {
    var sb = new StringBuilder("cluster:");
    for (int i = 0; i < nodes.length; i++) {
      Node n = nodes[i];
      sb.append("\n  ").append(id(i)).append(": ");
      if (n == null) {
        sb.append("stopped");
      } else {
        sb.append(n.raft().isLeaderReady() ? "leader" : "member")
            .append(" term=")
            .append(n.raft().currentTerm())
            .append(" commit=")
            .append(n.raft().commitIndex())
            .append(" applied=")
            .append(n.raft().lastAppliedIndex());
      }
    }
    return sb.toString();
  }

  @Override
  public void close() {
    for (int i = 0; i < nodes.length; i++) {
      kill(i);
    }
  }


}
