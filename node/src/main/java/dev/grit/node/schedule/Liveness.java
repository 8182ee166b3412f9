package dev.grit.node.schedule;

import dev.grit.consensus.raft.GroupView;
import dev.grit.consensus.state.StateQueries.NodeRow;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * The leader's view of which nodes may take work and which are lost. A follower may take work
 * while the leader heard from it within the node timeout (Ratis tracks every follower's last
 * contact) and it has acknowledged every entry committed more than {@link #CAUGHT_UP_MILLIS} ago:
 * a follower whose log lags learns of an assignment only when it catches up, and one cut off
 * from the leader may still look live (just after a partition heals; or to a new leader, which
 * Ratis tells that every follower was heard from when it took over): given work then, it would
 * lose it again to the timeout, and every loss counts towards failing the task. The leader
 * itself takes work only when no follower may, unless told to. A node is lost when it has been
 * silent past the timeout — counted from this leader's start at the earliest, so a new leader
 * gives running attempts one full timeout of grace.
 *
 * <p>A leader that has heard within the timeout from no majority of the group's voters, as its
 * latest configuration has them (members come and go after start-up), is the one cut off: it
 * neither assigns nor expires anything. Its proposals could not commit anyway, and its Raft
 * client retries them, so once the partition heals they could reach the next leader and expire
 * the attempts of the very nodes that had gone on working.
 */
final class Liveness {
  /** How long a follower may take to acknowledge a committed entry and still be given work. */
  static final long CAUGHT_UP_MILLIS = 1000;
  /** How often the commit index is remembered: often enough for the cutoff above. */
  private static final long SAMPLE_MILLIS = 20;

  private final GroupView group;
  private final String self;
  private final Duration nodeTimeout;
  private final boolean leaderRunsTasks;
  private final IntUnaryOperator capacityOf;
  /** The commit index as this leader saw it over the last moments: {millis, index}, oldest first. */
  private final ArrayDeque<long[]> commits = new ArrayDeque<>();

  Liveness(
      GroupView group,
      String self,
      Duration nodeTimeout,
      boolean leaderRunsTasks,
      IntUnaryOperator capacityOf) {
    this.group = group;
    this.self = self;
    this.nodeTimeout = nodeTimeout;
    this.leaderRunsTasks = leaderRunsTasks;
    this.capacityOf = capacityOf;
  }

  /** How many attempts each node that may take work at {@code now} may hold. */
  Map<String, Integer> capacity(List<NodeRow> registered, long now) {
    // Sampled before the followers' progress: whatever was committed by then, one follower at
    // least has acknowledged.
    long mustHave = committedBefore(now - CAUGHT_UP_MILLIS, now);
    Map<String, Long> silence = group.followerSilenceMillis();
    Map<String, Long> acknowledged = group.followerMatchIndices();
    var out = new HashMap<String, Integer>();
    if (cutOff(silence)) {
      return out;
    }
    NodeRow me = null;
    for (NodeRow n : registered) {
      if (n.id().equals(self)) {
        me = n;
      } else if (n.slots() > 0
          && silence.getOrDefault(n.id(), Long.MAX_VALUE) < nodeTimeout.toMillis()
          && acknowledged.getOrDefault(n.id(), -1L) >= mustHave) {
        out.put(n.id(), capacityOf.applyAsInt(n.slots()));
      }
    }
    if (me != null && me.slots() > 0 && (leaderRunsTasks || out.isEmpty())) {
      out.put(self, capacityOf.applyAsInt(me.slots()));
    }
    return out;
  }

  /**
   * Whether this leader, counting itself, heard from no majority of the group's current voters
   * within the timeout, or, while the membership changes, of the voters it changes from.
   */
  private boolean cutOff(Map<String, Long> silence) {
    Set<String> previous = group.previousVoters();
    return !heardFromMajority(group.voters(), silence)
        || (!previous.isEmpty() && !heardFromMajority(previous, silence));
  }

  private boolean heardFromMajority(Set<String> voters, Map<String, Long> silence) {
    long heard =
        voters.stream()
            .filter(v -> v.equals(self) || silence.getOrDefault(v, Long.MAX_VALUE) < nodeTimeout.toMillis())
            .count();
    return heard > voters.size() / 2;
  }

  /** Forgets the commit indexes of an earlier term: this member has just become the leader. */
  void reset() {
    commits.clear();
  }

  /**
   * The commit index as it was at {@code cutoff}, or, when this leader has not led that long, as
   * it was when it began: a new leader gives no work to a follower that has not answered it yet
   * (Ratis counts a follower's silence from the leader's start, so any follower, the cut-off old
   * leader too, first looks live). Remembers the index of {@code now}.
   */
  private long committedBefore(long cutoff, long now) {
    long[] newest = commits.peekLast();
    if (newest == null || now - newest[0] >= SAMPLE_MILLIS) {
      commits.addLast(new long[] {now, group.commitIndex()});
    }
    // Keep the newest sample at or before the cutoff, and everything after it.
    while (commits.size() > 1) {
      Iterator<long[]> it = commits.iterator();
      it.next();
      if (it.next()[0] > cutoff) {
        break;
      }
      commits.removeFirst();
    }
    return commits.peekFirst()[1];
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
    Map<String, Long> silence = group.followerSilenceMillis();
    if (cutOff(silence)) {
      return out;
    }
    for (String node : withAttempts) {
      if (!node.equals(self) && silence.getOrDefault(node, Long.MAX_VALUE) >= nodeTimeout.toMillis()) {
        out.add(node);
      }
    }
    return out;
  }
}
