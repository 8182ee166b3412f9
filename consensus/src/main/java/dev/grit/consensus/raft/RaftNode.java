package dev.grit.consensus.raft;

import dev.grit.consensus.tls.MemberTls;
import dev.grit.engine.command.Command;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One member of the grit Raft group: the Ratis server (gRPC transport) with the {@link
 * GritStateMachine}, and an async client that proposes commands to whichever member leads.
 * Membership changes go through a second client that waits longer: adding a member waits for it
 * to catch up.
 */
public final class RaftNode implements GroupView, Proposer, AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RaftNode.class);

  /** The largest command, header and chunk bytes together, that the group accepts. */
  public static final int MAX_COMMAND_BYTES = 16 * 1024 * 1024;

  private static final long LEADERSHIP_TRANSFER_MILLIS = 10_000;

  /**
   * How long a proposal waits for its reply before the client sends it again, to the next member
   * if need be (the leader's retry cache joins a repeated request to the first). A leader cut off
   * by a partition neither answers nor resets the connection, so this is also how long proposals
   * stall before they find the new leader.
   */
  static final TimeDuration PROPOSAL_TIMEOUT = TimeDuration.valueOf(3, TimeUnit.SECONDS);

  /** Membership changes wait for a new member to catch up. */
  static final TimeDuration ADMIN_TIMEOUT = TimeDuration.valueOf(30, TimeUnit.SECONDS);

  private final RaftServer server;
  private final RaftClient client;
  private final RaftClient admin;
  private final RaftGroup group;
  private final RaftPeerId self;
  private final GritStateMachine stateMachine;
  private final boolean formatted;

  /** A member's stable id and Raft address. */
  public record Peer(String id, String host, int port) {
    public String address() {
      return host + ":" + port;
    }
  }

  private RaftNode(
      RaftServer server,
      RaftClient client,
      RaftClient admin,
      RaftGroup group,
      RaftPeerId self,
      GritStateMachine sm,
      boolean formatted) {
    this.server = server;
    this.client = client;
    this.admin = admin;
    this.group = group;
    this.self = self;
    this.stateMachine = sm;
    this.formatted = formatted;
  }

  /** The group id every member of the cluster {@code clusterName} derives alike. */
  public static RaftGroupId groupId(String clusterName) {
    return RaftGroupId.valueOf(
        UUID.nameUUIDFromBytes(("grit:" + clusterName).getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * Starts member {@code selfId} of a group of {@code peers}, storing its log under {@code
   * raftDir} (formatted on first start, recovered after), listening on {@code bindHost} (null: the
   * host of its own address), and speaking mutual TLS with {@code tls} on every Raft service and to
   * every peer (null: plain text, for a group confined to loopback).
   */
  public static RaftNode start(
      String clusterName,
      String selfId,
      List<Peer> peers,
      String bindHost,
      Path raftDir,
      GritStateMachine sm,
      MemberTls tls)
      throws IOException {
    Peer me =
        peers.stream()
            .filter(p -> p.id().equals(selfId))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException(selfId + " is not among the peers"));
    RaftGroup group =
        RaftGroup.valueOf(
            groupId(clusterName),
            peers.stream().map(RaftNode::raftPeer).toList());
    String host = bindHost == null ? me.host() : bindHost;
    CannotListenException.check(host, me.port());
    RaftProperties props = properties(raftDir, host, me.port());
    Parameters parameters = RaftTls.parameters(tls);
    boolean fresh = !Files.isDirectory(raftDir) || isEmpty(raftDir);
    Files.createDirectories(raftDir);
    RaftServer server =
        RaftServer.newBuilder()
            .setServerId(RaftPeerId.valueOf(selfId))
            .setGroup(group)
            .setProperties(props)
            .setParameters(parameters)
            .setStateMachine(sm)
            .setOption(fresh ? RaftStorage.StartupOption.FORMAT : RaftStorage.StartupOption.RECOVER)
            .build();
    server.start();
    RaftClient client = client(props, parameters, group, PROPOSAL_TIMEOUT, RETRY);
    RaftClient admin = client(props, parameters, group, ADMIN_TIMEOUT, ADMIN_RETRY);
    return new RaftNode(server, client, admin, group, RaftPeerId.valueOf(selfId), sm, fresh);
  }

  /** A request is sent again (to the next member when need be) for up to a minute. */
  private static final RetryPolicy RETRY =
      RetryPolicies.retryUpToMaximumCountWithFixedSleep(
          600, TimeDuration.valueOf(100, TimeUnit.MILLISECONDS));

  /**
   * As {@link #RETRY}, but a member to be added that makes no progress (it is down, or it cannot
   * speak TLS with the group) fails the change after a few tries instead of after 600.
   */
  private static final RetryPolicy ADMIN_RETRY =
      ExceptionDependentRetry.newBuilder()
          .setDefaultPolicy(RETRY)
          .setExceptionToPolicy(
              ReconfigurationTimeoutException.class,
              RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                  5, TimeDuration.valueOf(1, TimeUnit.SECONDS)))
          .build();

  private static RaftClient client(
      RaftProperties serverProps,
      Parameters parameters,
      RaftGroup group,
      TimeDuration timeout,
      RetryPolicy retry) {
    RaftProperties props = new RaftProperties(serverProps);
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, timeout);
    return RaftClient.newBuilder()
        .setProperties(props)
        .setParameters(parameters)
        .setRaftGroup(group)
        .setClientId(ClientId.randomId())
        .setRetryPolicy(retry)
        .build();
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (var entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  /**
   * Entries between automatic snapshots (system property {@code grit.snapshot.every}, default
   * 20,000): fewer means faster restarts and log purges, more means less snapshot work.
   */
  static long snapshotEvery() {
    return Long.getLong("grit.snapshot.every", 20_000);
  }

  private static RaftProperties properties(Path raftDir, String host, int port) {
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    RaftServerConfigKeys.setStorageDir(props, List.of(raftDir.toFile()));
    GrpcConfigKeys.Server.setHost(props, host);
    GrpcConfigKeys.Server.setPort(props, port);
    // Ratis wants: write buffer >= appender buffer + 8; gRPC message > appender buffer + 1 MiB.
    SizeInBytes appenderBuffer = SizeInBytes.valueOf(MAX_COMMAND_BYTES + (1 << 20));
    GrpcConfigKeys.setMessageSizeMax(props, SizeInBytes.valueOf(appenderBuffer.getSize() + (4 << 20)));
    // Chunk-carrying entries are megabytes: a small flow-control window stalls each one.
    GrpcConfigKeys.setFlowControlWindow(props, SizeInBytes.valueOf(16L << 20));
    RaftServerConfigKeys.Write.setByteLimit(props, SizeInBytes.valueOf(256L * 1024 * 1024));
    // Only closed segments below a snapshot are purged: smaller segments purge sooner.
    RaftServerConfigKeys.Log.setSegmentSizeMax(
        props, SizeInBytes.valueOf(Long.getLong("grit.raft.segment.bytes", 64L * 1024 * 1024)));
    RaftServerConfigKeys.Log.setPurgeGap(props, (int) Math.min(1024, snapshotEvery()));
    RaftServerConfigKeys.Log.setWriteBufferSize(props, SizeInBytes.valueOf(appenderBuffer.getSize() + 1024));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(props, appenderBuffer);
    // After errors the leader's log appender waits before it tries a follower again; Ratis's
    // default backs off to 5 s after 30 errors, which a partition of a second reaches (every
    // heartbeat that times out counts), so a healed follower heard nothing for up to 5 s at a time.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(props, "1ms,10, 100ms,10, 1s,1000");
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
    // Read-only requests use Raft's ReadIndex: answered only once the serving member has applied
    // everything committed when the request arrived.
    RaftServerConfigKeys.Read.setOption(props, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, snapshotEvery());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, 2);
    return props;
  }

  /**
   * Proposes {@code command} (with {@code data} after its header for {@link
   * dev.grit.engine.command.PutChunks}); completes with the apply reply once the entry is
   * committed and applied here or at the leader, or exceptionally when it was rejected: with a
   * {@link ChunksMissingException} when the leader lacks chunks a report points at, else with a
   * {@link CommandRejectedException}.
   */
  public CompletableFuture<String> submit(Command command, ByteString data) {
    ByteString message = ByteString.copyFrom(CommandCodec.encode(command));
    if (data != null) {
      message = message.concat(data);
    }
    if (message.size() > MAX_COMMAND_BYTES) {
      // Refused here: a message over gRPC's cap would also close this client's ordered stream,
      // failing every later proposal of this member.
      return CompletableFuture.failedFuture(
          new CommandRejectedException(
              "a command of " + message.size() + " bytes is larger than the " + MAX_COMMAND_BYTES
                  + " bytes a command may have",
              null));
    }
    return client.async().send(Message.valueOf(message)).handle(RaftNode::replyOf);
  }

  @Override
  public CompletableFuture<String> submit(Command command) {
    return submit(command, null);
  }

  private static String replyOf(RaftClientReply reply, Throwable error) {
    if (error != null) {
      Throwable cause =
          error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      // The async client fails the future with the state machine's refusal instead of
      // returning an unsuccessful reply.
      if (cause instanceof StateMachineException e) {
        if (e.getCause() instanceof ChunksMissingException missing) {
          throw new CompletionException(missing);
        }
        String why =
            e.getCause() != null && e.getCause().getMessage() != null
                ? e.getCause().getMessage()
                : e.getMessage();
        throw new CompletionException(new CommandRejectedException(why, e));
      }
      throw error instanceof CompletionException ce ? ce : new CompletionException(error);
    }
    if (!reply.isSuccess()) {
      Exception e = reply.getException();
      throw new CompletionException(
          new CommandRejectedException(e == null ? "rejected" : e.getMessage(), e));
    }
    return reply.getMessage().getContent().toStringUtf8();
  }

  /**
   * A linearizable read point: an index that includes every entry committed before this call.
   * A member that has applied up to it can serve a read that sees all of them.
   */
  public CompletableFuture<Long> readIndex() {
    return client
        .async()
        .sendReadOnly(Message.EMPTY)
        .thenApply(reply -> Long.parseLong(replyOf(reply, null)));
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
    var left = admin.admin().setConfiguration(leave);
    if (!left.isSuccess()) {
      throw new IOException("could not leave the group to rejoin: " + left.getException());
    }
    var rejoin =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(List.of(me))
            .setMode(SetConfigurationRequest.Mode.ADD)
            .build();
    var joined = admin.admin().setConfiguration(rejoin);
    if (!joined.isSuccess()) {
      throw new IOException("could not rejoin the group: " + joined.getException());
    }
    return true;
  }

  /**
   * When this member leads, hands leadership to the follower that is furthest along, so the
   * group does not wait an election timeout after this member stops. Returns the new leader's id,
   * or null when this member did not lead (or no follower could take over).
   */
  public String transferLeadership(java.time.Duration timeout) throws IOException {
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
    var reply = admin.admin().transferLeadership(RaftPeerId.valueOf(best), timeout.toMillis());
    return reply.isSuccess() ? best : null;
  }

  public String selfId() {
    return self.toString();
  }

  /** The members of the group as this member's latest configuration has them, sorted by id. */
  public List<Peer> members() throws IOException {
    return division().getRaftConf().getCurrentPeers().stream()
        .map(RaftNode::peerOf)
        .sorted(Comparator.comparing(Peer::id))
        .toList();
  }

  @Override
  public Set<String> voters() {
    try {
      return ids(division().getRaftConf().getCurrentPeers());
    } catch (IOException e) {
      return Set.of();
    }
  }

  @Override
  public Set<String> previousVoters() {
    try {
      return ids(division().getRaftConf().getPreviousPeers());
    } catch (IOException e) {
      return Set.of();
    }
  }

  private static Set<String> ids(java.util.Collection<RaftPeer> peers) {
    return peers.stream().map(p -> p.getId().toString()).collect(Collectors.toUnmodifiableSet());
  }

  /**
   * Adds {@code peer} to the group through a membership change; nothing happens when it already is
   * a member. The peer must be running, started with the group's members and itself, so that the
   * leader can send it the log or a snapshot.
   */
  public void addMember(Peer peer) throws IOException {
    var args =
        SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(List.of(raftPeer(peer)))
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
   * Removes member {@code id} through a membership change. When it leads, leadership goes to
   * another member first, so the group is never left waiting for an election by its own change.
   */
  public void removeMember(String id) throws IOException {
    List<Peer> current = members();
    if (current.stream().noneMatch(p -> p.id().equals(id))) {
      throw new IllegalArgumentException(id + " is not a member of " + current);
    }
    List<RaftPeer> remaining =
        current.stream().filter(p -> !p.id().equals(id)).map(RaftNode::raftPeer).toList();
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
            .setServersInCurrentConf(current.stream().map(RaftNode::raftPeer).toList())
            .setServersInNewConf(remaining)
            .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
            .build();
    RaftClientReply reply = admin.admin().setConfiguration(args);
    if (!reply.isSuccess()) {
      throw new IOException("could not remove " + id + ": " + reply.getException());
    }
  }

  /**
   * The members of the cluster's group as the first of {@code candidates} that belongs to it
   * reports them, or empty when none answers as a member (the group is not formed yet, or none of
   * them is reachable). A node asks this before forming a group, to join one that exists instead.
   */
  public static Optional<List<Peer>> probe(
      String clusterName, List<Peer> candidates, MemberTls tls) {
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    RaftGroupId groupId = groupId(clusterName);
    for (Peer candidate : candidates) {
      RaftPeer peer = raftPeer(candidate);
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
              group.getPeers().stream()
                  .map(RaftNode::peerOf)
                  .sorted(Comparator.comparing(Peer::id))
                  .toList());
        }
      } catch (IOException | RuntimeException e) {
        // Not up yet, up without the group, or not one we may talk to (TLS refused): ask the
        // next one.
        LOG.debug("{} does not answer for the group: {}", candidate.id(), e.toString());
      }
    }
    return Optional.empty();
  }

  private static RaftPeer raftPeer(Peer p) {
    return RaftPeer.newBuilder().setId(p.id()).setAddress(p.address()).build();
  }

  private static Peer peerOf(RaftPeer p) {
    String address = p.getAddress();
    int colon = address.lastIndexOf(':');
    return new Peer(
        p.getId().toString(), address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
  }

  public RaftGroup group() {
    return group;
  }

  public GritStateMachine stateMachine() {
    return stateMachine;
  }

  private RaftServer.Division division() throws IOException {
    return server.getDivision(group.getGroupId());
  }

  @Override
  public boolean isLeaderReady() {
    try {
      RaftServer.Division d = division();
      return d.getInfo().isLeader() && d.getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  /** The current leader's id, or null while there is none. */
  public String leaderId() {
    try {
      RaftPeerId id = division().getInfo().getLeaderId();
      return id == null ? null : id.toString();
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public long commitIndex() {
    try {
      return division().getRaftLog().getLastCommittedIndex();
    } catch (IOException e) {
      return -1;
    }
  }

  public long lastAppliedIndex() {
    try {
      return division().getInfo().getLastAppliedIndex();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Why this member has stopped taking part in the group, or null while it takes part: its state
   * machine could not store or apply an entry, or Ratis stopped the division (a failed log write
   * closes it). Either way only a restart brings it back.
   */
  public String failure() {
    String stateMachineFailure = stateMachine.failure();
    if (stateMachineFailure != null) {
      return stateMachineFailure;
    }
    try {
      var lifeCycle = division().getInfo().getLifeCycleState();
      return lifeCycle == org.apache.ratis.util.LifeCycle.State.EXCEPTION
              || lifeCycle.isClosingOrClosed()
          ? "the Raft server of this member is " + lifeCycle
          : null;
    } catch (IOException e) {
      return "this member's Raft server is gone: " + e.getMessage();
    }
  }

  @Override
  public Map<String, Long> followerSilenceMillis() {
    var out = new HashMap<String, Long>();
    try {
      var info = division().getInfo();
      if (!info.isLeader()) {
        return out;
      }
      for (var f : info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
        out.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
      }
    } catch (IOException e) {
      // not a member any more: nobody to report
    }
    return out;
  }

  @Override
  public Map<String, Long> followerMatchIndices() {
    var out = new HashMap<String, Long>();
    try {
      var info = division().getInfo();
      if (!info.isLeader()) {
        return out;
      }
      // Both lists come from the leader's followers in the same order.
      long[] match = info.getFollowerMatchIndices();
      var followers = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
      if (match == null || match.length != followers.size()) {
        return out;
      }
      for (int i = 0; i < match.length; i++) {
        out.put(followers.get(i).getId().getId().toStringUtf8(), match[i]);
      }
    } catch (IOException e) {
      // not a member any more: nobody to report
    }
    return out;
  }

  /** The first index still in this member's log: entries below it were purged after a snapshot. */
  public long logStartIndex() {
    try {
      return division().getRaftLog().getStartIndex();
    } catch (IOException e) {
      return -1;
    }
  }

  public long currentTerm() {
    try {
      return division().getInfo().getCurrentTerm();
    } catch (IOException e) {
      return -1;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      client.close();
    } finally {
      try {
        admin.close();
      } finally {
        server.close();
      }
    }
  }
}
