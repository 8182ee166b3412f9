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
 * A group as the leader sees it, set by the test: whether it leads, the voters, and when each
 * follower was last heard from. What the leader proposes is applied at once to a real record, as
 * a group that commits everything would, and kept for the test to read.
 */
final class FakeGroup implements GroupView, Proposer {
  final SqlState record;
  final List<Command> proposed = new ArrayList<>();
  boolean leaderReady = true;
  Set<String> voters;
  Set<String> previousVoters = Set.of();
  final Map<String, Long> silence = new HashMap<>();
  private long index;

  FakeGroup(SqlState record, Set<String> voters) {
    this.record = record;
    this.voters = voters;
  }

  /** Applies {@code command} to the record as the next entry, as if committed in term 1. */
  Reply apply(Command command) {
    try {
      return record.apply(1, ++index, command).reply();
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
    return index;
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

  /** Every follower heard from has acknowledged everything. */
  @Override
  public Map<String, Long> followerMatchIndices() {
    var out = new HashMap<String, Long>();
    silence.keySet().forEach(id -> out.put(id, index));
    return out;
  }
}
