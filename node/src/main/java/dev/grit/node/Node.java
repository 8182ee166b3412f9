package dev.grit.node;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.FatalErrorHandler;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.Membership;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.execute.OutputDir;
import dev.grit.engine.execute.TaskRunner;
import dev.grit.node.objects.ChunkFetcher;
import dev.grit.node.objects.ChunkRepair;
import dev.grit.node.schedule.LeaderLoop;
import dev.grit.node.work.Worker;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A running member: the record (SQLite + RocksDB behind the Ratis state machine), the Raft
 * server, the worker that runs attempts here, and the leader loop that schedules while this node
 * leads. Built in order, closed in reverse.
 */
public final class Node implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Node.class);
  /** Longer than an election takes, even on a loaded machine. */
  private static final Duration LEADERLESS_LIMIT = Duration.ofSeconds(5);
  private final NodeConfig config;
  private final EventHub events;
  private final RaftNode raft;
  private final Worker worker;
  private final OutputDir outputs;
  private final ChunkFetcher fetcher;
  private final Deque<AutoCloseable> closers;

  private Node(
      NodeConfig config,
      EventHub events,
      RaftNode raft,
      Worker worker,
      OutputDir outputs,
      ChunkFetcher fetcher,
      Deque<AutoCloseable> closers) {
    this.config = config;
    this.events = events;
    this.raft = raft;
    this.worker = worker;
    this.outputs = outputs;
    this.fetcher = fetcher;
    this.closers = closers;
  }

  public static Node start(NodeConfig config, InstantSource clock, FatalErrorHandler fatal)
      throws IOException {
    Deque<AutoCloseable> closers = new ArrayDeque<>();
    try {
      Path data = config.dataDir();
      closers.push(lock(data));
      RecordAtRest.forget(data);
      ChunkStore chunks = ChunkStore.open(data.resolve("objects"));
      closers.push(chunks);
      var events = new EventHub();
      var stateMachine =
          new GritStateMachine(data.resolve("state.db"), chunks, events::publish, fatal);
      // Mounted before any socket opens: the mount helper must inherit none of them.
      OutputDir outputs = OutputDir.open(data.resolve("work"));
      closers.push(outputs);
      Path raftDir = data.resolve("raft");
      List<Peer> peers = config.peers();
      // A new member whose peers already form a group without it joins that group by a
      // membership change: forming a group of its own would split the cluster.
      boolean join = false;
      if (!Bootstrap.hasRaftLog(data)) {
        var others = peers.stream().filter(p -> !p.id().equals(config.id())).toList();
        var existing =
            others.isEmpty()
                ? Optional.<List<Peer>>empty()
                : Membership.probe(config.clusterName(), others, config.security().tls());
        // Either way it starts from the group as it is now, not as its start-up list had it.
        if (existing.isPresent()) {
          peers = new ArrayList<>(existing.get());
          if (peers.stream().noneMatch(p -> p.id().equals(config.id()))) {
            join = true;
            peers.add(config.self());
          }
        }
      }
      RaftNode raft =
          RaftNode.start(
              config.clusterName(),
              config.id(),
              peers,
              config.raftBindHost(),
              raftDir,
              stateMachine,
              config.security().tls());
      closers.push(raft);
      closers.push(CredentialReload.start(config.security()));
      if (join) {
        LOG.info("{} joins the existing group {}", config.id(), peers);
        raft.membership().join();
      }
      var runner = new TaskRunner(outputs, data.resolve("work"), clock);
      var fetcher =
          new ChunkFetcher(config.id(), stateMachine::queries, chunks, config.security().tls());
      var worker =
          new Worker(config.id(), config.slots(), raft, runner, fetcher, data.resolve("work"), clock);
      events.subscribe(worker);
      closers.push(worker);

      awaitLeader(raft, Duration.ofSeconds(60));
      if (!join && raft.membership().rejoinIfDiskWasLost()) {
        LOG.warn("{} started on an empty disk and rejoined the group to be sent its state", config.id());
      }
      awaitCaughtUp(raft, Duration.ofSeconds(300));
      try {
        raft.compactFragmentedLog();
      } catch (IOException e) {
        // Only start-up time is at stake: the next start tries again.
        LOG.warn("{} could not take a snapshot of its fragmented log: {}", config.id(), e.toString());
      }
      var registration =
          new RegisterNode(config.id(), config.httpAddress(), config.slots(), clock.millis());
      if (!isRegisteredAs(stateMachine.queries(), registration)) {
        raft.submit(registration).get(60, TimeUnit.SECONDS);
      }
      worker.recover();
      worker.start();
      var repair = new ChunkRepair(fetcher, data.resolve("objects").resolve("repaired-up-to"));
      events.subscribe(repair);
      closers.push(repair);
      repair.start();
      var leader =
          new LeaderLoop(
              raft,
              raft,
              stateMachine::queries,
              config.id(),
              config.nodeTimeout(),
              config.leaderRunsTasks(),
              NodeConfig::capacityOf,
              clock);
      events.subscribe(leader);
      closers.push(leader);
      leader.start();
      return new Node(config, events, raft, worker, outputs, fetcher, closers);
    } catch (Exception e) {
      closeAll(closers);
      if (e instanceof IOException io) {
        throw io;
      }
      throw new IOException("node " + config.id() + " failed to start: " + e.getMessage(), e);
    }
  }

  /**
   * Whether the record has this node registered as {@code registration} would: then proposing it
   * again changes nothing (the time of registration is not read), and a restart of the embedded
   * node saves a log entry.
   */
  private static boolean isRegisteredAs(StateQueries queries, RegisterNode registration) {
    return queries.nodes().stream()
        .anyMatch(
            n ->
                n.id().equals(registration.node())
                    && n.httpAddress().equals(registration.httpAddress())
                    && n.slots() == registration.slots()
                    && n.rulesVersion() == registration.rulesVersion());
  }

  private static void awaitLeader(RaftNode raft, Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (raft.leaderId() == null) {
      if (System.nanoTime() > deadline) {
        throw new IOException("no Raft leader within " + limit.toSeconds() + "s");
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while starting");
      }
    }
  }

  /**
   * Waits until this member has applied everything the group had committed when it asked: its
   * own commit index may trail the leader's (a member that just joined learns it late).
   */
  private static void awaitCaughtUp(RaftNode raft, Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    long target = -1;
    while (target < 0) {
      if (raft.isLeaderReady()) {
        // A ready leader's commit index covers every entry the group committed (it holds them
        // all and has committed one of its own term): no read round trip is needed to learn it.
        target = raft.commitIndex();
        break;
      }
      if (raft.selfId().equals(raft.leaderId())) {
        // Elected, its first entry not yet committed: ready in a moment.
        if (System.nanoTime() > deadline) {
          throw new IOException("the leader was not ready within " + limit.toSeconds() + "s");
        }
        pause();
        continue;
      }
      try {
        target = raft.readIndex().get(limit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while starting");
      } catch (ExecutionException | TimeoutException e) {
        // A leader that is not known yet, or one just elected: ask again until the deadline.
        if (System.nanoTime() > deadline) {
          throw new IOException("could not learn the group's commit index: " + e, e);
        }
        pause();
      }
    }
    while (raft.lastAppliedIndex() < target) {
      if (System.nanoTime() > deadline) {
        throw new IOException(
            "applied only up to " + raft.lastAppliedIndex() + " of " + target + " within " + limit.toSeconds() + "s");
      }
      pause();
    }
  }

  private static void pause() throws IOException {
    try {
      Thread.sleep(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting");
    }
  }

  /** One process per data directory: a second one would corrupt the record. */
  private static AutoCloseable lock(Path data) throws IOException {
    AutoCloseable lock = tryLock(data);
    if (lock == null) {
      throw new IOException("another grit process is using " + data);
    }
    return lock;
  }

  /** The lock of data directory {@code data}, or null while another process (or this one) holds it. */
  static AutoCloseable tryLock(Path data) throws IOException {
    Files.createDirectories(data);
    FileChannel channel =
        FileChannel.open(data.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock taken;
    try {
      taken = channel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException heldHere) {
      taken = null;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    if (taken == null) {
      channel.close();
      return null;
    }
    FileLock lock = taken;
    return () -> {
      lock.release();
      channel.close();
    };
  }

  public NodeConfig config() {
    return config;
  }

  public EventHub events() {
    return events;
  }

  public RaftNode raft() {
    return raft;
  }

  public StateQueries queries() {
    return raft.stateMachine().queries();
  }

  public ChunkStore chunks() {
    return raft.stateMachine().chunks();
  }

  public String outputMode() {
    return outputs.kind();
  }

  /**
   * Leaves gracefully (SIGTERM): announces it takes no more work, gives back queued attempts,
   * hands leadership over if it leads, and lets running attempts finish for up to {@code grace}
   * before giving the rest back. Call {@link #close()} afterwards.
   */
  public void drain(Duration grace) throws Exception {
    awaitWhileALeaderIsInSight(
        raft.submit(
            new RegisterNode(config.id(), config.httpAddress(), 0, System.currentTimeMillis())),
        Duration.ofSeconds(30));
    try {
      String next = raft.membership().transferLeadership(Duration.ofSeconds(10));
      if (next != null) {
        LOG.info("{} handed leadership to {}", config.id(), next);
      }
    } catch (IOException | RuntimeException e) {
      // The group elects a leader after this member stops all the same: its attempts still go back.
      LOG.warn("{} could not hand leadership over: {}", config.id(), e.toString());
    }
    worker.drain(grace);
  }

  /**
   * Waits for {@code proposal} at most {@code limit}, and gives up sooner once no leader has been in
   * sight for {@link #LEADERLESS_LIMIT}: the last member of a group stopped one by one has no
   * majority left to commit with, and would wait out the whole limit for nothing.
   */
  private void awaitWhileALeaderIsInSight(CompletableFuture<?> proposal, Duration limit)
      throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    long leaderSeen = System.nanoTime();
    while (true) {
      try {
        proposal.get(100, TimeUnit.MILLISECONDS);
        return;
      } catch (TimeoutException notYet) {
        long now = System.nanoTime();
        if (raft.leaderId() != null) {
          leaderSeen = now;
        } else if (now - leaderSeen > LEADERLESS_LIMIT.toNanos()) {
          throw new TimeoutException(
              "no leader for " + LEADERLESS_LIMIT.toSeconds() + " s: no majority to commit with");
        }
        if (now > deadline) {
          throw notYet;
        }
      }
    }
  }

  /**
   * Waits, for at most {@code limit}, until the record follows rules {@code needed} or newer, as
   * long as every member's code supports them: then the leader raises the rules shortly (a node
   * just started has not yet). Returns at once when a member's code does not, since waiting would
   * not help; the leader then refuses what needs them, naming that member.
   */
  public void awaitRules(int needed, Duration limit) throws InterruptedException {
    if (needed <= RulesVersion.INITIAL) {
      return;
    }
    long deadline = System.nanoTime() + limit.toNanos();
    try {
      while (queries().rulesVersion() < needed && System.nanoTime() < deadline) {
        var supported = new java.util.HashMap<String, Integer>();
        queries().nodes().forEach(n -> supported.put(n.id(), n.rulesVersion()));
        boolean everyMember =
            raft.voters().stream().allMatch(id -> supported.getOrDefault(id, 0) >= needed);
        if (!everyMember) {
          return;
        }
        Thread.sleep(20);
      }
    } catch (IllegalStateException unreadable) {
      // The record cannot be read here (the replica stopped): the proposal says what is wrong.
    }
  }

  /** Fetches chunks this node lacks from its peers. */
  public ChunkFetcher fetcher() {
    return fetcher;
  }

  public Worker worker() {
    return worker;
  }

  /** The members, the leader and what this member knows of their liveness and progress. */
  public ClusterStatus cluster() {
    String leader = raft.leaderId();
    Map<String, Long> silence = raft.followerSilenceMillis();
    var http = new java.util.HashMap<String, String>();
    queries().nodes().forEach(n -> http.put(n.id(), n.httpAddress().isEmpty() ? null : n.httpAddress()));
    var members = new java.util.ArrayList<ClusterStatus.Member>();
    List<Peer> current;
    try {
      current = raft.membership().members();
    } catch (IOException e) {
      current = config.peers();
    }
    for (var peer : current) {
      boolean self = peer.id().equals(config.id());
      long quiet = self ? 0 : silence.getOrDefault(peer.id(), -1L);
      members.add(
          new ClusterStatus.Member(
              peer.id(),
              peer.address(),
              http.get(peer.id()),
              peer.id().equals(leader),
              self || (quiet >= 0 && quiet < config.nodeTimeout().toMillis()),
              quiet,
              self ? raft.commitIndex() : -1,
              self ? raft.lastAppliedIndex() : -1));
    }
    return new ClusterStatus(config.id(), leader, raft.currentTerm(), members);
  }

  @Override
  public void close() {
    closeAll(closers);
  }

  /**
   * As {@link #close()}, for a process that ends next ({@code grit run}): the Raft server is
   * closed as far as the record needs ({@link RaftNode#closeBeforeExit}) instead of waiting about
   * a second more for Ratis's own threads.
   */
  public void closeBeforeExit() {
    while (!closers.isEmpty()) {
      AutoCloseable next = closers.pop();
      closeQuietly(next == raft ? this::closeRaftBeforeExit : next);
    }
  }

  private void closeRaftBeforeExit() throws IOException {
    long wholeAt = raft.closeBeforeExit(Duration.ofSeconds(60));
    if (wholeAt >= 0) {
      RecordAtRest.mark(config.dataDir(), wholeAt);
    }
  }

  private static void closeAll(Deque<AutoCloseable> closers) {
    while (!closers.isEmpty()) {
      closeQuietly(closers.pop());
    }
  }

  private static void closeQuietly(AutoCloseable closer) {
    try {
      closer.close();
    } catch (Exception e) {
      LOG.warn("closing failed: {}", e.toString());
    }
  }
}
