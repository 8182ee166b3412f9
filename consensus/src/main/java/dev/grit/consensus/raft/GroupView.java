package dev.grit.consensus.raft;

import java.util.Map;
import java.util.Set;

/**
 * What a member knows of its group at this moment, as the leader's scheduling needs it: whether
 * it leads, the commit index, the voters of the current configuration and how recently each
 * follower answered. Narrow so that the scheduling can be tested against a fake group and clock.
 */
public interface GroupView {
  /** True when this member leads and has applied every entry of earlier terms. */
  boolean isLeaderReady();

  long commitIndex();

  /** The ids of the voting members of the group's latest configuration, this member included. */
  Set<String> voters();

  /**
   * While a membership change is under way, the voters of the configuration it changes from
   * (entries commit only with a majority of both); empty otherwise.
   */
  Set<String> previousVoters();

  /**
   * When this member leads: how many milliseconds ago it last heard from each follower, by id.
   * Empty when it does not lead.
   */
  Map<String, Long> followerSilenceMillis();

  /**
   * When this member leads: the index of the last entry each follower has acknowledged, by id.
   * Empty when it does not lead.
   */
  Map<String, Long> followerMatchIndices();
}
