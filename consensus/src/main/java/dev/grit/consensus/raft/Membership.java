package dev.grit.consensus.raft;

import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.tls.MemberTls;
import java.io.IOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.LeaderElectionManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.util.TimeDuration;

/**
 * Who belongs to the group and who leads it, and changes to both: adding and removing members,
 * a member rejoining after it lost its disk, handing leadership over. Changes go through their
 * own Ratis client that waits longer than proposals do: adding a member waits until the leader
 * has brought it up to date.
 */
public final class Membership {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Membership.class);
  private static final long LEADERSHIP_TRANSFER_MILLIS = 10_000;

  private final RaftServer server;
  private final RaftGroup group;
  private final RaftPeerId self;
  private final RaftClient admin;
  /** True when this member formatted a new log at start: it may have lost its disk. */
  private final boolean formatted;
  /** Runs between a rejoin's leave and its add: a test widens that gap with it. */
  Runnable betweenLeaveAndAdd = () -> {};

  Membership(RaftServer server, RaftGroup group, RaftPeerId self, RaftClient admin, boolean formatted) {
    this.server = server;
    this.group = group;
    this.self = self;
    this.admin = admin;
    this.formatted = formatted;
  }

  /** The members of the group as this member's latest configuration has them, sorted by id. */
  public List<Peer> members() throws IOException {
    return division().getRaftConf().getCurrentPeers().stream()
        .map(Peer::of)
        .sorted(Comparator.comparing(Peer::id))
        .toList();
  }

  /**
   * Adds {@code peer} to the group through a membership change; nothing happens when it already is
   * a member. The peer must be running, started with the group's members and itself, so that the
   * leader can send it the log or a snapshot.
   */
  public void addMember(Peer peer) throws IOException {
    var args =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(List.of(peer.raftPeer()))
            .setMode(SetConfigurationRequest.Mode.ADD)
            .build();
    RaftClientReply reply;
    try {
      reply = admin.admin().setConfiguration(args);
    } catch (RaftRetryFailureException e) {
      throw new IOException(
          "could not add "
              + peer.id()
              + " at "
              + peer.address()
              + ": the leader could not bring it up to date (is it running and reachable, with a"
              + " certificate of the cluster's CA?)",
          e);
    }
    if (!reply.isSuccess()) {
      throw new IOException("could not add " + peer.id() + ": " + reply.getException());
    }
  }

  /**
   * Adds this member, started as a new member of the group (with the group's members and itself),
   * through a membership change.
   */
  public void join() throws IOException {
    withElectionsPaused(() -> addMember(Peer.of(group.getPeer(self))));
  }

  /**
   * Removes member {@code id} through a membership change. When it leads, leadership goes to
   * another member first, so the group is never left waiting for an election by its own change.
   */
  public void removeMember(String id) throws IOException {
    List<Peer> current = members();
    if (current.stream().noneMatch(p -> p.id().equals(id))) {
      throw new IllegalArgumentException(id + " is not a member of " + current);
    }
    List<RaftPeer> remaining =
        current.stream().filter(p -> !p.id().equals(id)).map(Peer::raftPeer).toList();
    if (remaining.isEmpty()) {
      throw new IllegalArgumentException(id + " is the only member: the group cannot lose it");
    }
    if (id.equals(leaderId())) {
      RaftClientReply moved =
          admin.admin().transferLeadership(remaining.get(0).getId(), LEADERSHIP_TRANSFER_MILLIS);
      if (!moved.isSuccess()) {
        throw new IOException("could not hand leadership over before removing " + id + ": " + moved.getException());
      }
    }
    var args =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInCurrentConf(current.stream().map(Peer::raftPeer).toList())
            .setServersInNewConf(remaining)
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .build();
    RaftClientReply reply = admin.admin().setConfiguration(args);
    if (!reply.isSuccess()) {
      throw new IOException("could not remove " + id + ": " + reply.getException());
    }
  }

  /**
   * A member that started on an empty log while the leader believes it holds entries has lost
   * its disk. The leader would keep sending from where it thinks the member is, never reaching
   * back (Ratis keeps a follower's next index above its last known match, and forgets that match
   * only for a peer that leaves the configuration), so the member leaves the group and joins it
   * again: as a new member it gets a snapshot or the log from its start. It rejoins the group as
   * the leader has it now, not as this member's start-up peers were: a compare-and-set takes it
   * out of exactly that configuration (failing, not overwriting, if another change came first),
   * and an add puts back only itself. Returns true when it rejoined; false when the leader has it
   * up to date, or it is no member any more.
   */
  public boolean rejoinIfDiskWasLost() throws IOException {
    if (!formatted) {
      return false;
    }
    String leader = leaderId();
    if (leader == null || leader.equals(self.toString())) {
      return false;
    }
    var info = admin.getGroupManagementApi(RaftPeerId.valueOf(leader)).info(group.getGroupId());
    List<RaftPeer> current = List.copyOf(info.getGroup().getPeers());
    RaftPeer me = current.stream().filter(p -> p.getId().equals(self)).findFirst().orElse(null);
    if (me == null || current.size() < 2) {
      return false;
    }
    long believed = -1;
    for (var commit : info.getCommitInfos()) {
      if (commit.getServer().getId().toStringUtf8().equals(self.toString())) {
        believed = commit.getCommitIndex();
      }
    }
    var last = division().getRaftLog().getLastEntryTermIndex();
    if (believed <= (last == null ? -1 : last.getIndex())) {
      return false;
    }
    var leave =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInCurrentConf(current)
            .setServersInNewConf(current.stream().filter(p -> !p.getId().equals(self)).toList())
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .build();
    var rejoin =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(List.of(me))
            .setMode(SetConfigurationRequest.Mode.ADD)
            .build();
    withElectionsPaused(
        () -> {
          var left = admin.admin().setConfiguration(leave);
          if (!left.isSuccess()) {
            throw new IOException("could not leave the group to rejoin: " + left.getException());
          }
          betweenLeaveAndAdd.run();
          var joined = admin.admin().setConfiguration(rejoin);
          if (!joined.isSuccess()) {
            throw new IOException("could not rejoin the group: " + joined.getException());
          }
        });
    return true;
  }

  /**
   * When this member leads, hands leadership to the follower that is furthest along, so the
   * group does not wait an election timeout after this member stops. Returns the id of the member
   * that leads now: the one chosen, or another one elected while the transfer went on (on a loaded
   * machine an election may overtake the transfer: leadership has left this member all the same).
   * Returns null when this member did not lead, or still leads (no follower could take over).
   */
  public String transferLeadership(Duration timeout) throws IOException {
    var info = division().getInfo();
    if (!info.isLeader()) {
      return null;
    }
    long[] match = info.getFollowerMatchIndices();
    var followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    String best = null;
    long bestMatch = -1;
    for (int i = 0; i < followers.size() && i < match.length; i++) {
      if (match[i] > bestMatch) {
        bestMatch = match[i];
        best = followers.get(i).getId().getId().toStringUtf8();
      }
    }
    if (best == null) {
      return null;
    }
    try {
      var reply = admin.admin().transferLeadership(RaftPeerId.valueOf(best), timeout.toMillis());
      if (reply.isSuccess()) {
        return best;
      }
      LOG.info("leadership was not handed to {}: {}", best, reply.getException());
    } catch (IOException e) {
      LOG.info("leadership was not handed to {}: {}", best, e.toString());
    }
    RaftPeerId now = division().getInfo().getLeaderId();
    return now == null || now.equals(self) ? null : now.toString();
  }

  /**
   * The members of the cluster's group as the first of {@code candidates} that belongs to it
   * reports them, or empty when none answers as a member (the group is not formed yet, or none of
   * them is reachable, or none accepts {@code tls}). A node asks this before forming a group, to
   * join one that exists instead; it asks with its own TLS material (null: plain text).
   */
  public static Optional<List<Peer>> probe(
      String clusterName, List<Peer> candidates, MemberTls tls) {
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftGroupId groupId = RaftNode.groupId(clusterName);
    for (Peer candidate : candidates) {
      RaftPeer peer = candidate.raftPeer();
      try (RaftClient c =
          RaftClient.newBuilder()
              .setProperties(props)
              .setParameters(RaftTls.parameters(tls))
              .setRaftGroup(RaftGroup.valueOf(groupId, peer))
              .setRetryPolicy(RetryPolicies.noRetry())
              .build()) {
        var group = c.getGroupManagementApi(peer.getId()).info(groupId).getGroup();
        if (!group.getPeers().isEmpty()) {
          return Optional.of(
              group.getPeers().stream().map(Peer::of).sorted(Comparator.comparing(Peer::id)).toList());
        }
      } catch (IOException | RuntimeException e) {
        // Not up yet, up without the group, or not one we may talk to (TLS refused): ask the
        // next one.
        LOG.debug("{} does not answer for the group: {}", candidate.id(), e.toString());
      }
    }
    return Optional.empty();
  }

  private interface Change {
    void run() throws IOException;
  }

  /**
   * Runs {@code change}, which adds this member, with this member standing for no election. Until
   * the leader has it in the configuration it hears no heartbeats; should its election timer run
   * out before then, the leader answers its pre-vote as it answers a removed member's ("shut
   * down"), this member closes its server, and the change can never complete.
   */
  private void withElectionsPaused(Change change) throws IOException {
    electionsPaused(true);
    try {
      change.run();
    } catch (IOException | RuntimeException e) {
      try {
        electionsPaused(false);
      } catch (IOException | RuntimeException notResumed) {
        e.addSuppressed(notResumed);
      }
      throw e;
    }
    electionsPaused(false);
  }

  private void electionsPaused(boolean paused) throws IOException {
    var groupId = group.getGroupId();
    var request =
        paused
            ? LeaderElectionManagementRequest.newPause(ClientId.randomId(), self, groupId, 0)
            : LeaderElectionManagementRequest.newResume(ClientId.randomId(), self, groupId, 0);
    RaftClientReply reply = server.leaderElectionManagement(request);
    if (!reply.isSuccess()) {
      throw new IOException(
          "could not " + (paused ? "pause" : "resume") + " this member's elections: " + reply.getException());
    }
  }

  void close() throws IOException {
    admin.close();
  }

  /** The current leader's id, or null while there is none. */
  private String leaderId() {
    try {
      RaftPeerId id = division().getInfo().getLeaderId();
      return id == null ? null : id.toString();
    } catch (IOException e) {
      return null;
    }
  }

  private RaftServer.Division division() throws IOException {
    return server.getDivision(group.getGroupId());
  }
}
