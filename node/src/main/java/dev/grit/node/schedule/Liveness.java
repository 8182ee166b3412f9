package dev.grit.node.schedule;

import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.state.StateQueries.NodeRow;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * The leader's view of which nodes may take work and which are lost. A follower is live while the
 * leader heard from it within the node timeout (Ratis tracks every follower's last contact). The
 * leader itself takes work only when no follower is live, unless told to. A node is lost when it
 * has been silent past the timeout — counted from this leader's start at the earliest, so a new
 * leader gives running attempts one full timeout of grace.
 */
final class Liveness {
  private final RaftNode raft;
  private final String self;
  private final Duration nodeTimeout;
  private final boolean leaderRunsTasks;
  private final IntUnaryOperator capacityOf;

  Liveness(
      RaftNode raft,
      String self,
      Duration nodeTimeout,
      boolean leaderRunsTasks,
      IntUnaryOperator capacityOf) {
    this.raft = raft;
    this.self = self;
    this.nodeTimeout = nodeTimeout;
    this.leaderRunsTasks = leaderRunsTasks;
    this.capacityOf = capacityOf;
  }

  /** How many attempts each node that may take work now may hold. */
  Map<String, Integer> capacity(List<NodeRow> registered) {
    Map<String, Long> silence = raft.followerSilenceMillis();
    var out = new HashMap<String, Integer>();
    NodeRow me = null;
    for (NodeRow n : registered) {
      if (n.id().equals(self)) {
        me = n;
      } else if (n.slots() > 0
          && silence.getOrDefault(n.id(), Long.MAX_VALUE) < nodeTimeout.toMillis()) {
        out.put(n.id(), capacityOf.applyAsInt(n.slots()));
      }
    }
    if (me != null && me.slots() > 0 && (leaderRunsTasks || out.isEmpty())) {
      out.put(self, capacityOf.applyAsInt(me.slots()));
    }
    return out;
  }

  /**
   * Of {@code withAttempts}, the nodes silent past the timeout, given that this member has led
   * for {@code ledMillis}.
   */
  Set<String> lost(Set<String> withAttempts, long ledMillis) {
    var out = new HashSet<String>();
    if (ledMillis < nodeTimeout.toMillis()) {
      return out;
    }
    Map<String, Long> silence = raft.followerSilenceMillis();
    for (String node : withAttempts) {
      if (!node.equals(self) && silence.getOrDefault(node, Long.MAX_VALUE) >= nodeTimeout.toMillis()) {
        out.add(node);
      }
    }
    return out;
  }
}
