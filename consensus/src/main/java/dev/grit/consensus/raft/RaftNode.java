package dev.grit.consensus.raft;

import dev.grit.consensus.state.Reply;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.engine.command.Command;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.protocol.exceptions.ReconfigurationTimeoutException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.apache.ratis.retry.ExceptionDependentRetry;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One member of the grit Raft group: the Ratis server (gRPC transport) with the {@link
 * GritStateMachine}, started and closed here; an async client that proposes commands to whichever
 * member leads ({@link Proposer}); what this member knows of the group ({@link GroupView} and a
 * few more readings); and its {@link Membership}, whose changes go through a second client that
 * waits longer.
 */
public final class RaftNode implements GroupView, Proposer, AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RaftNode.class);
  /** The largest command, header and chunk bytes together, that the group accepts. */
  public static final int MAX_COMMAND_BYTES = 16 * 1024 * 1024;

  /**
   * How long a proposal waits for its reply before the client sends it again, to the next member
   * if need be (the leader's retry cache joins a repeated request to the first). A leader cut off
   * by a partition neither answers nor resets the connection, so this is also how long proposals
   * stall before they find the new leader.
   */
  static final TimeDuration PROPOSAL_TIMEOUT = TimeDuration.valueOf(3, TimeUnit.SECONDS);

  /** Membership changes wait for a new member to catch up. */
  static final TimeDuration ADMIN_TIMEOUT = TimeDuration.valueOf(30, TimeUnit.SECONDS);

  /** Ratis's name for a closed log segment: {@code log_<first index>-<last index>}. */
  private static final Pattern CLOSED_SEGMENT = Pattern.compile("log_\\d+-\\d+");

  private final RaftServer server;
  private final RaftClient client;
  private final Membership membership;
  private final RaftGroup group;
  private final RaftPeerId self;
  private final GritStateMachine stateMachine;
  /** The client id and call ids of proposals handed to the local server directly (see send). */
  private final ClientId localClientId = ClientId.randomId();
  private final java.util.concurrent.atomic.AtomicLong localCallIds = new java.util.concurrent.atomic.AtomicLong();

  /** A member's stable id and Raft address. */
  public record Peer(String id, String host, int port) {
    public String address() {
      return host + ":" + port;
    }

    RaftPeer raftPeer() {
      return RaftPeer.newBuilder().setId(id).setAddress(address()).build();
    }

    static Peer of(RaftPeer p) {
      String address = p.getAddress();
      int colon = address.lastIndexOf(':');
      return new Peer(
          p.getId().toString(),
          address.substring(0, colon),
          Integer.parseInt(address.substring(colon + 1)));
    }
  }

  private RaftNode(
      RaftServer server,
      RaftClient client,
      Membership membership,
      RaftGroup group,
      RaftPeerId self,
      GritStateMachine sm) {
    this.server = server;
    this.client = client;
    this.membership = membership;
    this.group = group;
    this.self = self;
    this.stateMachine = sm;
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
            peers.stream().map(Peer::raftPeer).toList());
    String host = bindHost == null ? me.host() : bindHost;
    CannotListenException.check(host, me.port());
    RaftProperties props = properties(raftDir, host, me.port(), peers.size() == 1);
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
    RaftPeerId self = RaftPeerId.valueOf(selfId);
    RaftClient client = client(props, parameters, group, PROPOSAL_TIMEOUT, RETRY);
    var membership =
        new Membership(
            server, group, self, client(props, parameters, group, ADMIN_TIMEOUT, ADMIN_RETRY), fresh);
    return new RaftNode(server, client, membership, group, self, sm);
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

  private static RaftProperties properties(
      Path raftDir, String host, int port, boolean singleVoter) {
    RaftProperties props = new RaftProperties();
    if (singleVoter) {
      // A group of one elects itself: waiting out an election timeout first (150-300 ms) would
      // only delay every start of the embedded node. Larger groups keep the randomized wait that
      // keeps their members from standing at once.
      RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(props, TimeDuration.valueOf(1, TimeUnit.MILLISECONDS));
      RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(props, TimeDuration.valueOf(5, TimeUnit.MILLISECONDS));
    }
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
    // A snapshot of more than maxSegments segments (one entry or more each) must purge them.
    RaftServerConfigKeys.Log.setPurgeGap(props, (int) Math.min(maxSegments(), snapshotEvery()));
    // The log's entry cache would otherwise keep each entry with its chunk bytes as long as its
    // segment is open (a segment's size counts entries without their bytes, so it hardly ever
    // closes): a large output filled a 256 MiB heap, on every member. The bytes are in the chunk
    // store once written; the leader reads a follower's copy back from there (GritStateMachine.read)
    // when the entry's transaction no longer holds them.
    RaftServerConfigKeys.Log.StateMachineData.setCachingEnabled(props, true);
    RaftServerConfigKeys.Log.setWriteBufferSize(props, SizeInBytes.valueOf(appenderBuffer.getSize() + 1024));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(props, appenderBuffer);
    // One entry per append message: without it, a follower that fell behind during a 4 GiB
    // output never caught up (or ran out of a 256 MiB heap); with it, it did. Why is not known:
    // the byte limit above already counts each entry with its chunk bytes. Small commands on
    // three members lose their batching (their rate falls to about a third; batched task changes
    // do not change measurably). See docs/PERFORMANCE.md.
    RaftServerConfigKeys.Log.Appender.setBufferElementLimit(
        props, Integer.getInteger("grit.raft.append.entries", 1));
    // After errors the leader's log appender waits before it tries a follower again; Ratis's
    // default backs off to 5 s after 30 errors, which a partition of a second reaches (every
    // heartbeat that times out counts), so a healed follower heard nothing for up to 5 s at a time.
    RaftServerConfigKeys.Log.Appender.setRetryPolicy(props, "1ms,10, 100ms,10, 1s,1000");
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
    // A follower appends each request's entries as it takes it, not chained behind the appends
    // still under way. Chained (Ratis's default), one failed append failed every later one for good,
    // so the follower never caught up; and a request was accepted when its previous entry was only
    // under way, the one way found for an old leader to get index 198 without 197 after a heal.
    RaftServerConfigKeys.Log.setAppendEntriesComposeEnabled(props, false);
    // Read-only requests use Raft's ReadIndex: answered only once the serving member has applied
    // everything committed when the request arrived.
    RaftServerConfigKeys.Read.setOption(props, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, snapshotEvery());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, 2);
    // Not on every stop: a short `grit run` would copy the whole record each time it ends. The
    // log since the last snapshot is replayed at the next start instead (entries the record has
    // applied already are recognised by their index and skipped).
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(props, false);
    return props;
  }

  /**
   * Proposes {@code command} (with {@code data} after its header for {@link
   * dev.grit.engine.command.PutChunks}); completes with the apply reply once the entry is
   * committed and applied here or at the leader, or exceptionally when it was rejected: with a
   * {@link ChunksMissingException} when the leader lacks chunks a report points at, else with a
   * {@link CommandRejectedException}.
   */
  public CompletableFuture<Reply> submit(Command command, ByteString data) {
    return propose(command, data).thenApply(Logged::reply);
  }

  /**
   * As {@link #submit(Command)}, also telling the entry's index: a member that has applied up to
   * it knows the command's effect.
   */
  public CompletableFuture<Logged> propose(Command command) {
    return propose(command, null);
  }

  private CompletableFuture<Logged> propose(Command command, ByteString data) {
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
    return sendThroughHandOvers(Message.valueOf(message), HAND_OVER_TRIES)
        .handle(
            (reply, error) ->
                new Logged(
                    ReplyCodec.decode(contentOf(reply, error).toByteArray()), reply.getLogIndex()));
  }

  /** An applied command's reply and the index of its log entry. */
  public record Logged(Reply reply, long index) {}

  /** How often a proposal refused by a leader handing over is sent again, 100 ms apart. */
  static final int HAND_OVER_TRIES = 300;

  /**
   * A leader handing leadership over refuses proposals until the hand-over ends, and Ratis's
   * client takes that refusal as final (it retries only "not leader" and "not ready"): without
   * this a leader change failed every proposal in flight. Such a proposal is sent again, 100 ms
   * later, through {@link #send}, which finds the new leader; as long as a hand-over may last
   * (Ratis gives up one after its timeout, 30 s at most here). Commands are idempotent at apply.
   */
  private CompletableFuture<RaftClientReply> sendThroughHandOvers(Message message, int triesLeft) {
    return send(message)
        .handle(
            (reply, error) -> {
              Throwable refused = error != null ? unwrap(error) : reply.getException();
              if (triesLeft > 1 && isHandOver(refused)) {
                return CompletableFuture.supplyAsync(
                        () -> null, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS))
                    .thenCompose(ignored -> sendThroughHandOvers(message, triesLeft - 1));
              }
              return error != null
                  ? CompletableFuture.<RaftClientReply>failedFuture(error)
                  : CompletableFuture.completedFuture(reply);
            })
        .thenCompose(f -> f);
  }

  private static boolean isHandOver(Throwable refused) {
    return refused instanceof LeaderSteppingDownException
        || refused instanceof TransferLeadershipException;
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
  }

  /**
   * Sends a proposal: a leader hands its own straight to its server, without the client, gRPC
   * and the loopback connection in between (the embedded node proposes everything that way, the
   * leader of a cluster its assignments); the others, and the leader when its server refuses for
   * any reason but the state machine's judgement (it stopped leading meanwhile, is not ready yet,
   * has too many requests pending), go through the client, which finds the leader and retries.
   * The proposal may then be logged twice, should the first attempt have been logged after all:
   * every command is idempotent at apply (fenced by request id, attempt or state).
   */
  private CompletableFuture<RaftClientReply> send(Message message) {
    if (!isLeader()) {
      return client.async().send(message);
    }
    RaftClientRequest request =
        RaftClientRequest.newBuilder()
            .setClientId(localClientId)
            .setServerId(self)
            .setGroupId(group.getGroupId())
            .setCallId(localCallIds.incrementAndGet())
            .setMessage(message)
            .setType(RaftClientRequest.writeRequestType())
            .build();
    CompletableFuture<RaftClientReply> direct;
    try {
      direct = server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return client.async().send(message);
    }
    return direct.handle(
            (reply, error) -> {
              Throwable refused = error != null ? error : reply.getException();
              if (refused == null || refused instanceof StateMachineException) {
                return CompletableFuture.completedFuture(reply);
              }
              return client.async().send(message);
            })
        .thenCompose(f -> f);
  }

  private boolean isLeader() {
    try {
      return division().getInfo().isLeader();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public CompletableFuture<Reply> submit(Command command) {
    return submit(command, null);
  }

  /** The content of a successful reply; a failed one as the exception it stands for. */
  private static ByteString contentOf(RaftClientReply reply, Throwable error) {
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
      if (e instanceof StateMachineException) {
        // A refusal in a reply the server gave directly (see send), not through the client.
        return contentOf(null, e);
      }
      throw new CompletionException(
          new CommandRejectedException(e == null ? "rejected" : e.getMessage(), e));
    }
    return reply.getMessage().getContent();
  }

  /**
   * A linearizable read point: an index that includes every entry committed before this call.
   * A member that has applied up to it can serve a read that sees all of them.
   */
  public CompletableFuture<Long> readIndex() {
    return client
        .async()
        .sendReadOnly(Message.EMPTY)
        .thenApply(reply -> Long.parseLong(contentOf(reply, null).toStringUtf8()));
  }

  /** Who belongs to the group and leads it, and changes to both. */
  public Membership membership() {
    return membership;
  }

  public String selfId() {
    return self.toString();
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

  public RaftGroup group() {
    return group;
  }

  public GritStateMachine stateMachine() {
    return stateMachine;
  }

  RaftServer.Division division() throws IOException {
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

  /**
   * Closed log segments above which {@link #compactFragmentedLog} takes a snapshot (system property
   * {@code grit.raft.segments.max}, default 64).
   */
  static int maxSegments() {
    return Integer.getInteger("grit.raft.segments.max", 64);
  }

  /**
   * Takes a snapshot, which purges the log below it, when this member's log holds more than {@link
   * #maxSegments} closed segments; call it once caught up. Ratis closes a segment whenever the term
   * changes, and a group of one starts a new term at every start: each {@code grit run} left a
   * segment of a few entries, which every later start read and replayed, long before the entries
   * added up to an automatic snapshot (a no-op rerun cost 1.8 ms more per earlier run).
   *
   * @return whether a snapshot was taken
   */
  public boolean compactFragmentedLog() throws IOException {
    Path current = division().getRaftStorage().getStorageDir().getCurrentDir().toPath();
    long closed;
    try (var files = Files.list(current)) {
      closed = files.filter(f -> CLOSED_SEGMENT.matcher(f.getFileName().toString()).matches()).count();
    }
    if (closed <= maxSegments()) {
      return false;
    }
    RaftClientReply reply =
        server.snapshotManagement(
            SnapshotManagementRequest.newCreate(
                localClientId,
                self,
                group.getGroupId(),
                localCallIds.incrementAndGet(),
                ADMIN_TIMEOUT.toLong(TimeUnit.MILLISECONDS),
                1)); // whatever was applied since the last snapshot (0 would mean Ratis's 1,024)
    if (!reply.isSuccess()) {
      throw new IOException("snapshot of a log of " + closed + " segments failed", reply.getException());
    }
    LOG.info("{}: snapshot at {} for a log of {} segments", self, reply.getLogIndex(), closed);
    return true;
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

  /**
   * Closes the member for a process that ends next: returns once the state machine has applied
   * its last entry and closed the record, every entry being durable in the log before it was
   * applied. The rest of Ratis's close goes on in the background: its log worker notices the stop
   * only when its queue poll times out, once a second, and that second would be most of what a
   * short {@code grit run} with nothing to do takes. Ending the process during that second
   * leaves the log as a crash would, which its recovery handles; nothing of the log is written
   * then (no entry is pending: every proposal has been answered). Not for a member that is
   * started again in the same process: its port and storage stay held until Ratis is done.
   *
   * <p>Returns the record's applied index when the record then holds every entry of the log (it
   * can be read as the whole state, without replaying anything), else -1.
   */
  public long closeBeforeExit(java.time.Duration limit) throws IOException {
    try {
      client.close();
    } finally {
      membership.close();
    }
    // Read before the log closes; nothing proposes any more (the node stopped its proposers and
    // every proposal has been answered), so the log's commands end here.
    long lastCommand = lastCommandIndex();
    Thread closer = new Thread(() -> {
      try {
        server.close();
      } catch (IOException e) {
        LOG.warn("closing the Raft server failed: {}", e.toString());
      }
    }, "grit-raft-close");
    closer.setDaemon(true);
    closer.start();
    try {
      stateMachine.closed().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while closing the Raft server", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IOException("the state machine did not close within " + limit.toSeconds() + "s", e);
    }
    long applied = stateMachine.appliedIndex();
    return lastCommand != Long.MIN_VALUE && applied >= lastCommand ? applied : -1;
  }

  /**
   * The index of the log's last command (a state-machine entry; what follows it records commits
   * and configurations, which the record does not hold), or Long.MIN_VALUE when it is not found
   * among the last entries. Below the log's start every command is in the record's snapshot.
   */
  private long lastCommandIndex() {
    try {
      RaftLog log = division().getRaftLog();
      var last = log.getLastEntryTermIndex();
      long end = last == null ? -1 : last.getIndex();
      long start = log.getStartIndex();
      long i = end;
      for (; i >= start && i > end - 1000; i--) {
        LogEntryProto entry = log.get(i);
        if (entry == null) {
          return Long.MIN_VALUE;
        }
        if (entry.hasStateMachineLogEntry()) {
          return i;
        }
      }
      return i < start ? start - 1 : Long.MIN_VALUE;
    } catch (IOException | RuntimeException e) {
      return Long.MIN_VALUE;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      client.close();
    } finally {
      try {
        membership.close();
      } finally {
        server.close();
      }
    }
  }
}
