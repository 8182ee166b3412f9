package dev.grit.node;

import dev.grit.consensus.raft.Membership;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.discovery.PeerAddress;
import dev.grit.discovery.PeerDiscovery;
import dev.grit.discovery.PeerDiscovery.DiscoveryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides the members a node starts its Raft group with, from what discovery finds.
 *
 * <p>A node with a Raft log already belongs to a group: the log holds its membership, and the
 * peers it is started with only name the group. A new node waits until {@code expected} peers are
 * known (itself included, as Consul's and Nomad's {@code bootstrap-expect} do). The group is
 * formed by the {@code expected} lowest ids, so every node that sees the same peers forms the same
 * group. A node beyond those waits for that group to exist and then joins it by a membership change
 * ({@link Node#start} does the joining); so does any new node whose peers already formed a group.
 */
public final class Bootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(Bootstrap.class);

  private Bootstrap() {}

  /**
   * The peers to start node {@code self} with; blocks until discovery has found enough. The group
   * is asked with {@code tls} (null: plain text): a node that cannot speak TLS with its members
   * never learns of the group, so it can never join it.
   */
  public static List<Peer> peers(
      String clusterName,
      String self,
      PeerDiscovery discovery,
      int expected,
      Path dataDir,
      Duration limit,
      MemberTls tls)
      throws DiscoveryException, InterruptedException, IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    boolean hasLog = hasRaftLog(dataDir);
    List<Peer> found =
        discovery.await(hasLog ? 1 : expected, limit).stream().map(Bootstrap::peer).toList();
    if (found.stream().noneMatch(p -> p.id().equals(self))) {
      throw new DiscoveryException(self + " is not among the peers discovery found: " + found);
    }
    if (hasLog) {
      return found;
    }
    List<Peer> founders = found.subList(0, Math.min(expected, found.size()));
    if (founders.stream().anyMatch(p -> p.id().equals(self))) {
      return founders;
    }
    // Not a founder: the group must exist before this node can join it.
    var others = found.stream().filter(p -> !p.id().equals(self)).toList();
    while (true) {
      var existing = Membership.probe(clusterName, others, tls);
      if (existing.isPresent()) {
        var peers = new ArrayList<>(existing.get());
        found.stream().filter(p -> p.id().equals(self)).forEach(peers::add);
        return peers;
      }
      if (System.nanoTime() > deadline) {
        throw new DiscoveryException(
            "no group formed by " + founders + " within " + limit.toSeconds() + "s for " + self + " to join");
      }
      LOG.info("{} waits for {} to form the group", self, founders);
      Thread.sleep(1000);
    }
  }

  /** Whether this data directory holds a Raft log, so its node already belongs to a group. */
  public static boolean hasRaftLog(Path dataDir) throws IOException {
    Path raft = dataDir.resolve("raft");
    if (!Files.isDirectory(raft)) {
      return false;
    }
    try (var entries = Files.list(raft)) {
      return entries.findAny().isPresent();
    }
  }

  private static Peer peer(PeerAddress p) {
    return new Peer(p.id(), p.host(), p.port());
  }
}
