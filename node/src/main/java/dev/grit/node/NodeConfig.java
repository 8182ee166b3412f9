package dev.grit.node;

import dev.grit.consensus.raft.RaftNode.Peer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How one node runs.
 *
 * @param id this node's stable id (never an address)
 * @param peers every member of the group, this one included
 * @param dataDir where the record, the objects, the Raft log and the work files live
 * @param httpAddress host:port its API listens on; empty for none (the embedded node)
 * @param slots how many attempts run here at once
 * @param leaderRunsTasks whether the leader takes attempts while followers are live
 * @param nodeTimeout how long a node may be silent before its attempts are given to others
 * @param raftBindHost the host the Raft server listens on; null for the host of its own peer
 *     address (a pod binds every interface while its peers dial its DNS name)
 * @param security its TLS material and API tokens ({@link NodeSecurity#NONE}: plain text, open)
 */
public record NodeConfig(
    String clusterName,
    String id,
    List<Peer> peers,
    Path dataDir,
    String httpAddress,
    int slots,
    boolean leaderRunsTasks,
    Duration nodeTimeout,
    String raftBindHost,
    NodeSecurity security) {

  public static final Duration DEFAULT_NODE_TIMEOUT = Duration.ofSeconds(10);

  /** A node speaking plain text with an open API (see {@link NodeSecurity#NONE}). */
  public NodeConfig(
      String clusterName,
      String id,
      List<Peer> peers,
      Path dataDir,
      String httpAddress,
      int slots,
      boolean leaderRunsTasks,
      Duration nodeTimeout,
      String raftBindHost) {
    this(
        clusterName,
        id,
        peers,
        dataDir,
        httpAddress,
        slots,
        leaderRunsTasks,
        nodeTimeout,
        raftBindHost,
        NodeSecurity.NONE);
  }

  public NodeConfig {
    peers = List.copyOf(peers);
    security = security == null ? NodeSecurity.NONE : security;
    // Scripts run in their own working directory: every path handed to them must be absolute.
    dataDir = dataDir.toAbsolutePath().normalize();
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be at least 1");
    }
    if (peers.stream().noneMatch(p -> p.id().equals(id))) {
      throw new IllegalArgumentException(id + " is not among the peers " + peers);
    }
  }

  /** This node's own entry among the peers. */
  public Peer self() {
    return peers.stream().filter(p -> p.id().equals(id)).findFirst().orElseThrow();
  }

  /** The same node with {@code security}. */
  public NodeConfig withSecurity(NodeSecurity security) {
    return new NodeConfig(
        clusterName,
        id,
        peers,
        dataDir,
        httpAddress,
        slots,
        leaderRunsTasks,
        nodeTimeout,
        raftBindHost,
        security);
  }

  /** One process on one machine: a group of one on loopback, no API, no TLS. */
  public static NodeConfig embedded(Path dataDir, int raftPort, int slots) {
    return new NodeConfig(
        "embedded",
        "local",
        List.of(new Peer("local", "127.0.0.1", raftPort)),
        dataDir,
        "",
        slots,
        true,
        DEFAULT_NODE_TIMEOUT,
        null);
  }

  /**
   * How many attempts a node with {@code slots} may hold, running and queued: a queue beyond its
   * slots hides the round trip between a result and the next assignment.
   */
  public static int capacityOf(int slots) {
    if (slots <= 0) {
      return 0; // a draining node takes nothing
    }
    return slots + Integer.getInteger("grit.queueDepth", Math.max(2 * slots, 16));
  }
}
