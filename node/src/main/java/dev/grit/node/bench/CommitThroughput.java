package dev.grit.node.bench;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.consensus.tls.TlsInit;
import dev.grit.consensus.state.TaskState;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.PendingTask;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Raft commit throughput of grit's command path, members in this JVM on loopback (gRPC), each
 * with its own data directory; every entry is committed, applied to SQLite and answered.
 *
 * <ol>
 *   <li>Small commands: {@code COMMANDS} node registrations, {@code IN_FLIGHT} at a time.
 *   <li>Task changes, the record's side of the trivial benchmark without its processes: a run
 *       whose first task published {@code COMMANDS} inputs, whose {@code COMMANDS} tasks are then
 *       assigned by the leader and reported (successful, no outputs) by a follower, {@value
 *       #BATCH} to an entry, {@code IN_FLIGHT} batches at a time. Two task changes per task.
 * </ol>
 *
 * With two members or more, leadership moves to another member halfway through each part, as a
 * leader change would move it: proposals in flight are answered by the new leader, and a proposal
 * that fails is counted and reported, not printed. At the end every member's record must show
 * every task succeeded.
 *
 * <p>Usage: {@code CommitThroughput MEMBERS COMMANDS IN_FLIGHT SCRATCH_DIR [tls]}: with {@code
 * tls}, members speak mutual TLS with certificates of a CA made as {@code grit tls init} makes one.
 */
public final class CommitThroughput {
  /** Tasks per assignment or report entry, about what a leader assigns per decision. */
  static final int BATCH = 32;

  private final List<RaftNode> nodes;
  private final AtomicLong failures = new AtomicLong();
  private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

  private CommitThroughput(List<RaftNode> nodes) {
    this.nodes = nodes;
  }

  /** Held so the configured level is not garbage-collected with its logger. */
  private static final java.util.logging.Logger GRPC =
      java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");

  public static void main(String[] args) throws Exception {
    GRPC.setLevel(java.util.logging.Level.SEVERE); // as grit run and node set it
    int members = Integer.parseInt(args[0]);
    int commands = Integer.parseInt(args[1]);
    int inFlight = Integer.parseInt(args[2]);
    Path dir = Files.createTempDirectory(Path.of(args[3]), "raft-bench");
    var peers = new ArrayList<Peer>();
    for (int i = 1; i <= members; i++) {
      peers.add(new Peer("m" + i, "127.0.0.1", freePort()));
    }
    boolean tls = args.length > 4 && args[4].equals("tls");
    if (tls) {
      new TlsInit(
              "bench",
              peers.stream().map(Peer::id).toList(),
              List.of(),
              List.of("127.0.0.1"),
              Duration.ofDays(1),
              Duration.ofDays(1))
          .run(dir.resolve("tls"), Instant.now());
    }
    var fatal = new AtomicReference<IllegalStateException>();
    var nodes = new ArrayList<RaftNode>();
    var stores = new ArrayList<ChunkStore>();
    var starts = new ArrayList<CompletableFuture<RaftNode>>();
    for (Peer p : peers) {
      ChunkStore chunks = ChunkStore.open(dir.resolve(p.id()).resolve("objects"));
      stores.add(chunks);
      var sm =
          new GritStateMachine(
              dir.resolve(p.id()).resolve("state.db"),
              chunks,
              events -> {},
              (what, cause) -> fatal.compareAndSet(null, new IllegalStateException(what, cause)));
      starts.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  MemberTls member =
                      tls ? MemberTls.load(dir.resolve("tls").resolve(TlsInit.NODES), p.id()) : null;
                  return RaftNode.start(
                      "bench", p.id(), peers, null, dir.resolve(p.id()).resolve("raft"), sm, member);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    for (var s : starts) {
      nodes.add(s.join());
    }
    var bench = new CommitThroughput(nodes);
    int status = 0;
    try {
      bench.leader();
      System.out.printf(
          "%d member%s, %d in flight, %s%s%n",
          members,
          members == 1 ? "" : "s",
          inFlight,
          tls ? "mutual TLS" : "plain text",
          members > 1 ? ", leadership moved halfway through each part" : "");
      bench.smallCommands(Math.min(2000, commands), inFlight, false); // warm-up
      bench.smallCommands(commands, inFlight, members > 1);
      bench.taskChanges(commands, inFlight, members > 1);
    } catch (RuntimeException e) {
      System.out.println("  " + e.getMessage());
      status = 1;
    } finally {
      // The leader first: a follower closing while the leader still sends it entries logs an
      // error for each.
      nodes.sort((a, b) -> Boolean.compare(b.isLeaderReady(), a.isLeaderReady()));
      for (RaftNode n : nodes) {
        n.close();
      }
      for (ChunkStore c : stores) {
        c.close();
      }
    }
    if (fatal.get() != null) {
      System.out.println("  a state machine failed: " + fatal.get() + ": " + fatal.get().getCause());
      status = 1;
    }
    if (bench.failures.get() > 0) {
      System.out.printf(
          "  %d proposals failed; the first: %s%n", bench.failures.get(), bench.firstFailure.get());
      status = 1;
    }
    if (status != 0) {
      // Every member is closed: the process ends with this, non-zero.
      throw new IllegalStateException("the benchmark failed (above)");
    }
  }

  /** Node registrations, {@code inFlight} outstanding; prints entries per second. */
  private void smallCommands(int commands, int inFlight, boolean moveLeader) throws Exception {
    var window = new Semaphore(inFlight);
    var pending = new ArrayList<CompletableFuture<?>>();
    Mover mover = new Mover(moveLeader);
    long t0 = System.nanoTime();
    for (int i = 0; i < commands; i++) {
      if (i == commands / 2) {
        mover.start();
      }
      window.acquire();
      var f = submit(leader(), new RegisterNode("bench-" + (i % 16), "", 1, i), null);
      f.whenComplete((r, e) -> window.release());
      pending.add(f);
    }
    awaitAll(pending);
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (moveLeader || commands > 2000) {
      System.out.printf(
          "  small commands (node registrations): %8.0f entries/s%s%n",
          commands / seconds, mover.report());
    }
  }

  /**
   * A run of {@code tasks} tasks like the trivial benchmark's: assigned by the leader and
   * reported by a follower, {@link #BATCH} to an entry; prints entries and task changes per
   * second, then checks every member's record.
   */
  private void taskChanges(int tasks, int inFlight, boolean moveLeader) throws Exception {
    long runId = prepareRun(tasks);
    var pendingTasks = waitForPending(tasks);
    var window = new Semaphore(inFlight);
    var pending = new ArrayList<CompletableFuture<?>>();
    var entries = new AtomicLong();
    Mover mover = new Mover(moveLeader);
    long t0 = System.nanoTime();
    for (int from = 0; from < pendingTasks.size(); from += BATCH) {
      if (from >= pendingTasks.size() / 2) {
        mover.start();
      }
      var batch = pendingTasks.subList(from, Math.min(pendingTasks.size(), from + BATCH));
      window.acquire();
      long now = System.currentTimeMillis();
      var assign =
          new AssignTasks(
              now,
              batch.stream()
                  .map(t -> new AssignTasks.Assignment(t.taskId(), t.nextAttempt(), "worker"))
                  .toList());
      var report =
          new ReportResults(
              batch.stream()
                  .map(
                      t ->
                          new ReportResults.Report(
                              t.taskId(), t.nextAttempt(), "worker", 0, null, List.of(),
                              ObjectLayout.of(new byte[0]), now, now, 0))
                  .toList());
      RaftNode reporter = worker();
      var f =
          submit(leader(), assign, null)
              .thenCompose(r -> submit(reporter, report, null))
              .whenComplete(
                  (r, e) -> {
                    entries.addAndGet(2);
                    window.release();
                  });
      pending.add(f);
    }
    awaitAll(pending);
    double seconds = (System.nanoTime() - t0) / 1e9;
    if (failures.get() > 0) {
      throw new IllegalStateException(
          failures.get() + " proposals failed; the first: " + firstFailure.get());
    }
    System.out.printf(
        "  task changes (%d tasks, %d per entry): %8.0f entries/s, %8.0f task changes/s%s%n",
        tasks, BATCH, entries.get() / seconds, 2 * pendingTasks.size() / seconds, mover.report());
    checkRecords(runId, tasks + 1);
  }

  /**
   * Submits a run of a start step and a step consuming its outputs, and reports the start task
   * with {@code tasks} small outputs (their bytes travel with the report), so that {@code tasks}
   * tasks are pending.
   */
  private long prepareRun(int tasks) throws Exception {
    submit(leader(), new RegisterNode("worker", "", 1_000_000, 0), null).get(60, TimeUnit.SECONDS);
    String text =
        """
        [[step]]
        name = "make"
        script = "true"

        [[step]]
        name = "upper"
        inputs = ["item_*"]
        script = "true"
        """;
    Manifest manifest = ManifestParser.parse("bench.toml", text, "bench");
    long runId =
        submit(
                leader(),
                new SubmitRun(
                    UUID.randomUUID().toString(), "bench", "bench.toml", text, manifest.steps(),
                    System.currentTimeMillis(), null, List.of(), 0),
                null)
            .get(60, TimeUnit.SECONDS)
            .as(Reply.RunSubmitted.class)
            .runId();
    PendingTask make = waitForPending(1).get(0);
    submit(
            leader(),
            new AssignTasks(
                System.currentTimeMillis(),
                List.of(new AssignTasks.Assignment(make.taskId(), make.nextAttempt(), "worker"))),
            null)
        .get(60, TimeUnit.SECONDS);
    var outputs = new ArrayList<ReportResults.Output>();
    var chunks = new ArrayList<PutChunks.Chunk>();
    var data = new ByteArrayOutputStream();
    for (int i = 1; i <= tasks; i++) {
      byte[] bytes = ("item " + i + "\n").getBytes(StandardCharsets.UTF_8);
      ObjectLayout layout = ObjectLayout.of(bytes);
      outputs.add(new ReportResults.Output("item_" + i, layout));
      chunks.add(new PutChunks.Chunk(layout.digest(), bytes.length));
      data.write(bytes);
    }
    long now = System.currentTimeMillis();
    var report =
        new ReportResults.Report(
            make.taskId(), make.nextAttempt(), "worker", 0, null, outputs,
            ObjectLayout.of(new byte[0]), now, now, 0);
    submit(leader(), new ReportResults(List.of(report), chunks), ByteString.copyFrom(data.toByteArray()))
        .get(120, TimeUnit.SECONDS);
    return runId;
  }

  private List<PendingTask> waitForPending(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      RaftNode leader = leader();
      var pending = leader.stateMachine().queries().pending(count);
      if (pending.size() >= count) {
        return pending;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + pending.size() + " of " + count + " tasks pending");
      }
      Thread.sleep(10);
    }
  }

  /** Every member's record has the run ended SUCCEEDED with all its tasks succeeded. */
  private void checkRecords(long runId, int tasks) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (RaftNode n : nodes) {
      while (true) {
        var run = n.stateMachine().queries().run(runId).orElseThrow();
        int succeeded = run.tasks().getOrDefault(TaskState.SUCCEEDED, 0);
        if (run.state() == RunState.SUCCEEDED && succeeded == tasks) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              n.selfId() + ": run " + run.state() + " with " + succeeded + " of " + tasks + " tasks succeeded");
        }
        Thread.sleep(10);
      }
    }
    System.out.printf("  every member's record: the run succeeded, %d of %d tasks%n", tasks, tasks);
  }

  private CompletableFuture<Reply> submit(RaftNode via, Command command, ByteString data) {
    return via.submit(command, data)
        .whenComplete(
            (r, e) -> {
              if (e != null) {
                failures.incrementAndGet();
                firstFailure.compareAndSet(null, e);
              }
            });
  }

  private static void awaitAll(List<CompletableFuture<?>> pending) throws InterruptedException {
    for (var f : pending) {
      try {
        f.get(120, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        // counted in submit
      }
    }
  }

  /** The member that leads now (waiting for one). */
  private RaftNode leader() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      for (RaftNode n : nodes) {
        if (n.isLeaderReady()) {
          return n;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no leader within 60 s");
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a leader", e);
      }
    }
  }

  /** A member that does not lead now, as a worker reporting would be; the leader in a group of one. */
  private RaftNode worker() {
    RaftNode leader = leader();
    return nodes.stream().filter(n -> n != leader).findFirst().orElse(leader);
  }

  /** Moves leadership to another member once, in the background, and tells how it went. */
  private final class Mover {
    private final boolean enabled;
    private final Set<String> leaders = ConcurrentHashMap.newKeySet();
    private CompletableFuture<String> moved;
    private long startNanos;

    Mover(boolean enabled) {
      this.enabled = enabled;
    }

    void start() {
      if (!enabled || moved != null) {
        return;
      }
      RaftNode from = leader();
      leaders.add(from.selfId());
      startNanos = System.nanoTime();
      moved =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  String to = from.membership().transferLeadership(Duration.ofSeconds(30));
                  if (to != null) {
                    return to;
                  }
                } catch (IOException e) {
                  // On a loaded machine another member may win an election first: a leader
                  // change all the same, found below.
                }
                RaftNode now = leader();
                return now == from ? null : now.selfId();
              });
    }

    String report() throws Exception {
      if (moved == null) {
        return "";
      }
      String to = moved.get(60, TimeUnit.SECONDS);
      double ms = (System.nanoTime() - startNanos) / 1e6;
      return to == null
          ? " (leadership did not move)"
          : String.format(" (leadership moved %s -> %s in %.0f ms)", String.join(",", leaders), to, ms);
    }
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
