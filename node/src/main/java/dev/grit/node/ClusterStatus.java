package dev.grit.node;

import java.util.List;

/**
 * The cluster as one member sees it.
 *
 * @param self this member's id
 * @param leader the leader's id, or null while there is none
 */
public record ClusterStatus(String self, String leader, long term, List<Member> members) {
  public ClusterStatus {
    members = List.copyOf(members);
  }

  /**
   * One member.
   *
   * @param httpAddress host:port of its API, or null when it has not registered yet
   * @param live whether the leader heard from it within the node timeout (as far as this member
   *     knows: exact on the leader)
   * @param lastContactMillis how long ago the leader heard from it; -1 when unknown here
   * @param commitIndex the commit index this member knows of; -1 when it is not this member
   * @param appliedIndex likewise, the index it has applied
   */
  public record Member(
      String id,
      String raftAddress,
      String httpAddress,
      boolean leader,
      boolean live,
      long lastContactMillis,
      long commitIndex,
      long appliedIndex) {}
}
