package dev.grit.node;

import dev.grit.consensus.raft.RaftNode.Peer;
import java.nio.file.Path;
import java.util.List;

/**
 * How one node runs.
 *
 * @param id this node's stable id (never an address)
 * @param peers every member of the group, this one included
 * @param dataDir where the record, the objects, the Raft log and the work files live
 * @param slots how many attempts run here at once
 * @param queueDepth how many more attempts may wait here, assigned, for a free slot: hides the
 *     round trip between a result and the next assignment
 */
public record NodeConfig(
    String clusterName,
    String id,
    List<Peer> peers,
    Path dataDir,
    int slots,
    int queueDepth) {

  public NodeConfig {
    peers = List.copyOf(peers);
    // Scripts run in their own working directory: every path handed to them must be absolute.
    dataDir = dataDir.toAbsolutePath().normalize();
    if (slots < 1) {
      throw new IllegalArgumentException("slots must be at least 1");
    }
  }

  /** One process on one machine: a group of one on loopback. */
  public static NodeConfig embedded(Path dataDir, int raftPort, int slots) {
    return new NodeConfig(
        "embedded",
        "local",
        List.of(new Peer("local", "127.0.0.1", raftPort)),
        dataDir,
        slots,
        Integer.getInteger("grit.queueDepth", Math.max(2 * slots, 16)));
  }
}
