package dev.grit.node.schedule;

import dev.grit.consensus.raft.GroupView;
import dev.grit.consensus.raft.Proposer;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.Command;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * A group as the leader sees it, set by the test: whether it leads, the voters, when each
 * follower was last heard from and how far it has acknowledged the log. What the leader proposes
 * is applied at once to a real record, as a group that commits everything would, and kept for the
 * test to read.
 */
final class FakeGroup implements GroupView, Proposer {
  final SqlState record;
  final List<Command> proposed = new ArrayList<>();
  boolean leaderReady = true;
  Set<String> voters;
  Set<String> previousVoters = Set.of();
  final Map<String, Long> silence = new HashMap<>();
  /** The last entry each follower acknowledged; a follower heard from but not here has them all. */
  final Map<String, Long> acknowledged = new HashMap<>();
  /** The last committed entry: every entry applied to the record so far, or as the test sets it. */
  long commitIndex;

  FakeGroup(SqlState record, Set<String> voters) {
    this.record = record;
    this.voters = voters;
  }

  /** Applies {@code command} to the record as the next entry, as if committed in term 1. */
  Reply apply(Command command) {
    try {
      return record.apply(1, ++commitIndex, command).reply();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public CompletableFuture<Reply> submit(Command command) {
    proposed.add(command);
    return CompletableFuture.completedFuture(apply(command));
  }

  @Override
  public boolean isLeaderReady() {
    return leaderReady;
  }

  @Override
  public long commitIndex() {
    return commitIndex;
  }

  @Override
  public Set<String> voters() {
    return voters;
  }

  @Override
  public Set<String> previousVoters() {
    return previousVoters;
  }

  @Override
  public Map<String, Long> followerSilenceMillis() {
    return leaderReady ? Map.copyOf(silence) : Map.of();
  }

  @Override
  public Map<String, Long> followerMatchIndices() {
    var out = new HashMap<String, Long>();
    if (leaderReady) {
      silence.keySet().forEach(id -> out.put(id, acknowledged.getOrDefault(id, commitIndex)));
    }
    return out;
  }
}
