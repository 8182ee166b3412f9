package dev.grit.consensus.testing;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftTls;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.consensus.tls.TlsInit;
import dev.grit.consensus.state.DurableFiles;
import dev.grit.consensus.state.StateEvent;
import dev.grit.engine.command.RulesVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.rpc.SupportedRpcType;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * A grit Raft group of N members in this JVM, each with its own {@link GritStateMachine}, SQLite
 * record, {@link ChunkStore} and Raft log under one temporary directory, talking gRPC on loopback
 * ports. Members are numbered 0..N-1 (ids {@code m0}, {@code m1}, ...) and keep their port and
 * directory across {@link #kill}/{@link #restart}.
 *
 * <p>Typical use:
 *
 * <pre>{@code
 * MiniCluster.runWithNewCluster(3, cluster -> {
 *   RaftNode leader = cluster.leader();
 *   leader.submit(command).get(30, SECONDS);
 *   cluster.awaitConverged();
 * });
 * }</pre>
 *
 * <p>{@link #runWithNewCluster} prints every member's role, term, commit and applied index when the
 * body fails, fails the test when any member reported a fatal error (see {@link #fatal()}), and
 * removes everything afterwards.
 */
public final class MiniCluster implements AutoCloseable {
  public static final String CLUSTER_NAME = "mini";

  /** How long the helpers wait for a leader or for replicas to catch up. */
  public static final Duration TIMEOUT = Duration.ofSeconds(60);

  private final Path root;
  private final List<RaftNode.Peer> peers;
  private final Member[] members;
  private final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();

  /** One member's directories and, while it runs, its open parts. */
  private static final class Member {
    final int index;
    final String id;
    final Path dir;
    final List<StateEvent> events = new CopyOnWriteArrayList<>();
    /** While set, the apply thread waits on it after an entry that told of events. */
    volatile ApplyHold applyHold;
    volatile ChunkStore chunks;
    volatile GritStateMachine stateMachine;
    volatile RaftNode raft;
    volatile int supportedRules = RulesVersion.SUPPORTED;
    MemberTls tls;

    Member(int index, String id, Path dir) {
      this.index = index;
      this.id = id;
      this.dir = dir;
    }
  }

  private MiniCluster(Path root, List<RaftNode.Peer> peers) throws IOException {
    this.root = root;
    this.peers = List.copyOf(peers);
    this.members = new Member[peers.size()];
    // Every cluster its own CA, made the way `grit tls init` makes one: members speak mutual TLS.
    var tls =
        testTls(peers.stream().map(RaftNode.Peer::id).toList()).run(root.resolve("tls"), Instant.now());
    for (int i = 0; i < members.length; i++) {
      members[i] = new Member(i, peers.get(i).id(), root.resolve(peers.get(i).id()));
      members[i].tls = MemberTls.load(tls.nodesDir(), members[i].id);
    }
  }

  /** What `grit tls init` is told for a cluster of {@code ids} on loopback. */
  public static TlsInit testTls(List<String> ids) {
    return new TlsInit(
        CLUSTER_NAME, ids, List.of(), List.of("127.0.0.1"), Duration.ofDays(1), Duration.ofDays(2));
  }

  /**
   * Starts {@code n} members under a new temporary directory, runs {@code body}, then closes the
   * cluster and deletes the directory. On failure it prints the cluster's state to stderr first.
   */
  public static void runWithNewCluster(int n, ThrowingConsumer<MiniCluster> body) throws Exception {
    Path root = Files.createTempDirectory("grit-minicluster-");
    Throwable failure = null;
    MiniCluster cluster = null;
    try {
      cluster = start(n, root);
      body.accept(cluster);
      cluster.fatal.assertNone();
    } catch (Throwable t) {
      failure = t;
      if (cluster != null) {
        System.err.println("MiniCluster state at failure:\n" + cluster.describe());
        for (var call : cluster.fatal.calls()) {
          System.err.println("fatal error recorded: " + call.what());
          call.cause().printStackTrace();
        }
      }
    } finally {
      try {
        if (cluster != null) {
          cluster.close();
        }
        deleteTree(root);
      } catch (Throwable t) {
        if (failure == null) {
          failure = t;
        } else {
          failure.addSuppressed(t);
        }
      }
    }
    if (failure instanceof Exception e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new AssertionError(failure);
    }
  }

  /** Starts {@code n} members with their data under {@code root}; the caller closes it. */
  public static MiniCluster start(int n, Path root) throws IOException {
    var peers = new ArrayList<RaftNode.Peer>();
    for (int i = 0; i < n; i++) {
      peers.add(new RaftNode.Peer("m" + i, "127.0.0.1", Ports.take()));
    }
    var cluster = new MiniCluster(root, peers);
    try {
      for (int i = 0; i < n; i++) {
        cluster.startMember(i);
      }
    } catch (IOException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }


  private void startMember(int i) throws IOException {
    Member m = members[i];
    if (m.raft != null) {
      throw new IllegalStateException(m.id + " is already running");
    }
    m.events.clear();
    m.chunks = ChunkStore.open(m.dir.resolve("objects"));
    try {
      m.stateMachine =
          new GritStateMachine(
              stateFile(i),
              m.chunks,
              events -> {
                m.events.addAll(events);
                waitOutHold(m);
              },
              (what, cause) -> fatal.fatal(m.id + ": " + what, cause),
              DurableFiles.SYSTEM,
              m.supportedRules);
      m.raft =
          RaftNode.start(
              CLUSTER_NAME, m.id, peers, null, m.dir.resolve("raft"), m.stateMachine, m.tls);
    } catch (IOException | RuntimeException e) {
      m.chunks.close();
      m.chunks = null;
      m.stateMachine = null;
      throw e;
    }
  }

  private static void waitOutHold(Member m) {
    ApplyHold hold = m.applyHold;
    if (hold != null) {
      hold.holding.countDown();
      try {
        hold.release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // the member is closing
      }
    }
  }

  /** Holds a member's apply thread until closed. */
  public static final class ApplyHold implements AutoCloseable {
    private final Member member;
    private final CountDownLatch holding = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    private ApplyHold(Member member) {
      this.member = member;
    }

    /** Waits until the apply thread has stopped at this hold (its applied index stays put). */
    public void awaitHolding() throws InterruptedException {
      if (!holding.await(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(
            member.id + "'s apply thread did not stop at the hold in " + TIMEOUT);
      }
    }

    @Override
    public void close() {
      member.applyHold = null;
      release.countDown();
    }
  }

  /**
   * Makes member {@code i}'s record lag: its apply thread stops after the next entry that tells
   * of events and waits until the hold is closed, while its log still takes entries and the
   * others commit and apply them.
   */
  public ApplyHold holdApply(int i) {
    Member m = members[i];
    var hold = new ApplyHold(m);
    m.applyHold = hold;
    return hold;
  }

  // ---- members ---------------------------------------------------------------------------

  public int size() {
    return members.length;
  }

  public List<RaftNode.Peer> peers() {
    return peers;
  }

  /** The cluster's CA directory, as {@code grit tls init} left it (members' files in nodes/). */
  public Path tlsDir() {
    return root.resolve("tls");
  }

  /** Member {@code i}'s TLS material. */
  public MemberTls tls(int i) {
    return members[i].tls;
  }

  public boolean isRunning(int i) {
    return members[i].raft != null;
  }

  /** Member {@code i}'s Raft node; it must be running. */
  public RaftNode node(int i) {
    return running(i).raft;
  }

  public GritStateMachine stateMachine(int i) {
    return running(i).stateMachine;
  }

  public ChunkStore chunks(int i) {
    return running(i).chunks;
  }

  /** What member {@code i}'s state machine told its listener since the member last started. */
  public List<StateEvent> events(int i) {
    return List.copyOf(members[i].events);
  }

  /** The directory holding member {@code i}'s record, objects and Raft log. */
  public Path dataDir(int i) {
    return members[i].dir;
  }

  public Path stateFile(int i) {
    return members[i].dir.resolve("state.db");
  }

  /** Member {@code i}'s record as text (see {@link StateDump}); works when it is stopped too. */
  public String dump(int i) {
    return StateDump.of(stateFile(i));
  }

  /** The fatal errors members reported; {@link #runWithNewCluster} fails when there are any. */
  public RecordingFatalErrorHandler fatal() {
    return fatal;
  }

  private Member running(int i) {
    Member m = members[i];
    if (m.raft == null) {
      throw new IllegalStateException(m.id + " is not running");
    }
    return m;
  }

  // ---- faults ----------------------------------------------------------------------------

  /**
   * Stops the given members (their Raft servers, records and object stores) at the same time: a
   * Ratis server takes about a second to close. Their data stays.
   */
  public void kill(int... indexes) throws IOException {
    for (int i : indexes) {
      running(i);
    }
    var stops = new ArrayList<CompletableFuture<Void>>();
    for (int i : indexes) {
      stops.add(
          CompletableFuture.runAsync(
              () -> {
                try {
                  stop(members[i]);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              }));
    }
    IOException first = null;
    for (var stop : stops) {
      try {
        stop.join();
      } catch (CompletionException e) {
        if (first == null) {
          first = new IOException("stopping a member failed", e.getCause());
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void stop(Member m) throws IOException {
    try {
      m.raft.close();
    } finally {
      m.raft = null;
      m.stateMachine = null;
      m.chunks.close();
      m.chunks = null;
    }
  }

  /** Starts stopped member {@code i} again on its data (killing it first if it runs). */
  public void restart(int i) throws IOException {
    if (isRunning(i)) {
      kill(i);
    }
    startMember(i);
  }

  /** Starts member {@code i} again on its data, running code that applies rules up to {@code v}. */
  public void restartWithRules(int i, int supportedRules) throws IOException {
    members[i].supportedRules = supportedRules;
    restart(i);
  }

  /**
   * Starts member {@code i} again with an empty data directory (killing it first if it runs).
   *
   * <p>Ratis assumes a member never loses its log: a leader that already matched this member's log
   * keeps its match index and ignores the wiped member's plea to start from index 0, so the member
   * catches up only once another member leads (see {@link #transferLeadership}).
   */
  public void wipeAndRestart(int i) throws IOException {
    if (isRunning(i)) {
      kill(i);
    }
    deleteTree(members[i].dir);
    startMember(i);
  }

  /**
   * Wipes follower {@code i} and rebuilds it from the log: another follower is made leader (see
   * {@link #wipeAndRestart}), then this waits until {@code i} has applied as far as it.
   */
  public void wipeAndRebuild(int i, Duration limit) throws IOException {
    wipeAndRestart(i);
    transferLeadership(followers().stream().filter(f -> f != i).findFirst().orElseThrow());
    Wait.until(
        "the wiped member " + i + " to apply the record",
        limit,
        () -> stateMachine(i).appliedIndex() == stateMachine(leaderIndex()).appliedIndex(),
        this::describe);
  }

  // ---- waiting ---------------------------------------------------------------------------

  /** The index of the running member that leads and has applied its earlier terms' entries. */
  public int leaderIndex() {
    int[] found = {-1};
    Wait.until(
        "a ready leader",
        TIMEOUT,
        () -> {
          for (Member m : members) {
            if (m.raft != null && m.raft.isLeaderReady()) {
              found[0] = m.index;
              return true;
            }
          }
          return false;
        },
        this::describe);
    return found[0];
  }

  public RaftNode leader() {
    return node(leaderIndex());
  }

  /** Running members other than the leader. */
  public List<Integer> followers() {
    int leader = leaderIndex();
    var out = new ArrayList<Integer>();
    for (Member m : members) {
      if (m.raft != null && m.index != leader) {
        out.add(m.index);
      }
    }
    return out;
  }

  /** Waits until every running member has applied the log up to {@code index}. */
  public void awaitApplied(long index) {
    Wait.until(
        "every running member to apply index " + index,
        TIMEOUT,
        () -> {
          for (Member m : members) {
            if (m.raft != null && m.raft.lastAppliedIndex() < index) {
              return false;
            }
          }
          return true;
        },
        this::describe);
  }

  /** Waits until every running member has applied what the leader has committed now. */
  public void awaitConverged() {
    awaitApplied(leader().commitIndex());
  }

  // ---- Ratis administration --------------------------------------------------------------

  /** A client of the group for raw messages and admin calls; the caller closes it. */
  public RaftClient newClient() {
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    return RaftClient.newBuilder()
        .setProperties(props)
        .setParameters(RaftTls.parameters(tls(firstRunning())))
        .setRaftGroup(node(firstRunning()).group())
        .setClientId(ClientId.randomId())
        .build();
  }

  /** Makes member {@code i} take a snapshot now; returns the index it covers. */
  public long takeSnapshot(int i) throws IOException {
    try (RaftClient client = newClient()) {
      RaftClientReply reply =
          client
              .getSnapshotManagementApi(RaftPeerId.valueOf(members[i].id))
              .create(true, TIMEOUT.toMillis());
      if (!reply.isSuccess()) {
        throw new IOException("snapshot of " + members[i].id + " failed", reply.getException());
      }
      return reply.getLogIndex();
    }
  }

  /** Moves leadership to member {@code to} and waits until it is the ready leader. */
  public void transferLeadership(int to) throws IOException {
    try (RaftClient client = newClient()) {
      RaftClientReply reply =
          client.admin().transferLeadership(RaftPeerId.valueOf(members[to].id), TIMEOUT.toMillis());
      if (!reply.isSuccess()) {
        throw new IOException(
            "leadership transfer to " + members[to].id + " failed", reply.getException());
      }
    }
    Wait.until(
        "member " + to + " to lead", TIMEOUT, () -> node(to).isLeaderReady(), this::describe);
  }

  private int firstRunning() {
    for (Member m : members) {
      if (m.raft != null) {
        return m.index;
      }
    }
    throw new IllegalStateException("no member is running");
  }

  /** One line per member: id, role, term, commit and applied index. */
  public String describe() {
    var sb = new StringBuilder();
    for (Member m : members) {
      sb.append("  ").append(m.id).append(' ');
      RaftNode r = m.raft;
      if (r == null) {
        sb.append("STOPPED\n");
        continue;
      }
      String leaderId = r.leaderId();
      String role =
          m.id.equals(leaderId) ? (r.isLeaderReady() ? "LEADER" : "LEADER(not ready)") : "FOLLOWER";
      sb.append(role)
          .append(" term=")
          .append(r.currentTerm())
          .append(" leader=")
          .append(leaderId)
          .append(" commit=")
          .append(r.commitIndex())
          .append(" applied=")
          .append(r.lastAppliedIndex())
          .append(" recordApplied=")
          .append(recordApplied(m))
          .append('\n');
    }
    return sb.toString();
  }

  private static String recordApplied(Member m) {
    try {
      return Long.toString(m.stateMachine.appliedIndex());
    } catch (RuntimeException e) {
      return "?";
    }
  }

  /** Stops every running member. */
  @Override
  public void close() throws IOException {
    var running = new ArrayList<Integer>();
    for (Member m : members) {
      ApplyHold hold = m.applyHold;
      if (hold != null) {
        hold.release.countDown();
      }
      if (m.raft != null) {
        running.add(m.index);
      }
    }
    kill(running.stream().mapToInt(Integer::intValue).toArray());
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
