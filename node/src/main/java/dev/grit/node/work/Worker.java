package dev.grit.node.work;

import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.consensus.state.TaskState;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.execute.AttemptResult;
import dev.grit.engine.execute.AttemptSpec;
import dev.grit.engine.execute.GatheredInputs;
import dev.grit.engine.execute.OutputFile;
import dev.grit.engine.execute.LogTail;
import dev.grit.engine.execute.RunningAttempt;
import dev.grit.engine.execute.TaskRunner;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.node.objects.ChunkFetcher;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the attempts the record assigns to this node, {@code slots} at a time, and hands each
 * result to the {@link Reporter}. An assignment is checked against the record before it runs (it
 * may have been cancelled meanwhile); a cancellation kills the attempt's process group.
 *
 * <p>Events say what changed, but a replica that installs a snapshot sees none of the entries the
 * snapshot covers. So the worker also {@linkplain #reconcile reconciles} what it runs with what
 * the record assigns to it, after every snapshot install and every {@link #RECONCILE_MILLIS}: no
 * attempt stays assigned here without running, and none runs here once the record gave it away.
 * An attempt that cannot start here (its input cannot be fetched, no process) goes back like a
 * lost one: the node's failure does not use up the script's retries.
 *
 * <p>A task's input is copied to a read-only file; a gather task's inputs are linked into an input
 * directory from the {@link InputCache}. Inputs whose chunks are not here are fetched from peers.
 */
public final class Worker implements Consumer<List<StateEvent>>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
  static final long RECONCILE_MILLIS = 2_000;
  /** How long an ended attempt waits for the chunks it handed over to be stored. */
  private static final long EARLY_CHUNKS_WAIT_SECONDS = 60;

  private final String node;
  private final GritStateMachine stateMachine;
  private final RaftNode raft;
  private final TaskRunner runner;
  private final ChunkFetcher fetcher;
  private final InputFiles inputs;
  private final InputCache cache;
  private final InstantSource clock;
  private final Reporter reporter;
  private final EarlyChunks early;
  /** Attempts waiting for a slot: a retried one first (see {@link Queued}), else in arrival order. */
  private final BlockingQueue<Queued> queue = new PriorityBlockingQueue<>();
  private final AtomicLong arrivals = new AtomicLong();
  /** Attempts queued or running here: the ones recovery must not give back. */
  private final Set<AttemptRef> mine = ConcurrentHashMap.newKeySet();
  /**
   * Attempts that ended here and whose end is committed, while this member's record (which may
   * lag the leader's) still shows them assigned here: reconciling must not run them again.
   */
  private final Set<AttemptRef> ended = ConcurrentHashMap.newKeySet();
  private final Map<AttemptRef, RunningAttempt> running = new ConcurrentHashMap<>();
  /**
   * The output of attempts running here, kept after their end until the record shows it (the
   * reconciler drops them then), so a follower reads the last bytes from where it stopped.
   */
  private final Map<AttemptRef, LogTail> liveLogs = new ConcurrentHashMap<>();
  private final List<Thread> slots = new ArrayList<>();
  private final ScheduledExecutorService reconciler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "grit-reconcile");
            t.setDaemon(true);
            return t;
          });
  private volatile boolean accepting = true;

  public Worker(
      String node,
      int slotCount,
      RaftNode raft,
      TaskRunner runner,
      ChunkFetcher fetcher,
      Path workDir,
      InstantSource clock) {
    this.node = node;
    this.stateMachine = raft.stateMachine();
    this.raft = raft;
    this.runner = runner;
    this.fetcher = fetcher;
    try {
      this.inputs = new InputFiles(workDir.resolve("inputs"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot prepare " + workDir.resolve("inputs"), e);
    }
    this.cache = new InputCache(workDir.resolve("cache"), stateMachine.chunks());
    this.clock = clock;
    this.reporter = new Reporter(node, raft, stateMachine.chunks(), this::releaseInput);
    this.early = new EarlyChunks(raft, stateMachine.chunks());
    for (int i = 0; i < slotCount; i++) {
      Thread t = new Thread(this::slotLoop, "grit-slot-" + i);
      t.setDaemon(true);
      slots.add(t);
    }
  }

  public void start() throws IOException {
    reporter.start();
    slots.forEach(Thread::start);
    reconciler.scheduleWithFixedDelay(
        this::reconcileQuietly, RECONCILE_MILLIS, RECONCILE_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void accept(List<StateEvent> events) {
    for (StateEvent e : events) {
      if (e instanceof StateEvent.AttemptsAssigned a) {
        for (AttemptRef ref : a.attempts()) {
          if (node.equals(ref.node()) && mine.add(ref)) {
            queue.add(new Queued(ref, arrivals.incrementAndGet()));
          }
        }
      } else if (e instanceof StateEvent.AttemptsCancelled c) {
        for (AttemptRef ref : c.attempts()) {
          RunningAttempt r = running.get(ref);
          if (r != null) {
            r.cancel();
          }
        }
      } else if (e instanceof StateEvent.SnapshotInstalled) {
        // Not on the apply thread, which must not wait for the record's queries.
        reconciler.execute(this::reconcileQuietly);
      }
    }
  }

  /**
   * Gives back the attempts the record says run here but that this process does not run (it
   * restarted): their tasks retry at once instead of waiting for a timeout.
   */
  public int recover() throws Exception {
    var lost = new ArrayList<ExpireAttempts.Expiry>();
    for (AttemptRef ref : stateMachine.queries().assignedTo(node)) {
      if (!mine.contains(ref)) {
        lost.add(new ExpireAttempts.Expiry(ref.taskId(), ref.attempt(), "node " + node + " restarted"));
      }
    }
    if (!lost.isEmpty()) {
      LOG.info("giving back {} attempts this node no longer runs", lost.size());
      raft.submit(new ExpireAttempts(clock.millis(), lost)).get(60, TimeUnit.SECONDS);
    }
    return lost.size();
  }

  /**
   * Makes what runs here match what the record assigns here: queues what is assigned here and
   * not yet taken (its assignment was behind a snapshot), and kills what runs here although the
   * record no longer assigns it here (expired as lost, cancelled), which frees its slot.
   */
  void reconcile() {
    // What runs is read before the record, which only moves forward: an attempt assigned here
    // after this read cannot be among those killed below.
    var runningNow = List.copyOf(running.keySet());
    liveLogs.keySet().removeIf(ref -> !running.containsKey(ref) && !stillAssigned(ref));
    Set<AttemptRef> assigned = new HashSet<>(stateMachine.queries().assignedTo(node));
    ended.retainAll(assigned); // the record no longer assigning one here shows its end
    for (AttemptRef ref : assigned) {
      if (accepting && !ended.contains(ref) && mine.add(ref)) {
        LOG.info("attempt {} of task {} is assigned here but was not taken: running it", ref.attempt(), ref.taskId());
        queue.add(new Queued(ref, arrivals.incrementAndGet()));
      }
    }
    for (AttemptRef ref : runningNow) {
      RunningAttempt r = running.get(ref);
      if (r != null && !assigned.contains(ref)) {
        LOG.info("attempt {} of task {} is no longer assigned here: stopping it", ref.attempt(), ref.taskId());
        r.cancel();
      }
    }
  }

  /** Whether attempt {@code ref} is queued or running here (what recovery would not give back). */
  boolean holds(AttemptRef ref) {
    return mine.contains(ref);
  }

  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      LOG.warn("reconciling this node's attempts with the record failed: {}", e.toString());
    }
  }

  private void slotLoop() {
    while (accepting) {
      AttemptRef ref;
      try {
        Queued next = queue.poll(100, TimeUnit.MILLISECONDS);
        if (next == null || next == Queued.STOP) {
          continue;
        }
        ref = next.ref();
      } catch (InterruptedException e) {
        return;
      }
      try {
        runOne(ref);
      } catch (Exception e) {
        LOG.error("attempt {} of task {} could not run", ref.attempt(), ref.taskId(), e);
        mine.remove(ref);
        giveBackQuietly(ref, "could not run on " + node + ": " + e);
      }
    }
  }

  /**
   * What attempt {@code attempt} of task {@code taskId} wrote since byte {@code from}, while it
   * runs here (and until the record shows its end); empty when it does not run here.
   */
  public Optional<LogTail.Read> liveLog(long taskId, int attempt, long from) {
    LogTail log = liveLogs.get(new AttemptRef(taskId, attempt, node));
    return log == null ? Optional.empty() : Optional.of(log.read(from));
  }

  private boolean stillAssigned(AttemptRef ref) {
    return isCurrent(stateMachine.queries().task(ref.taskId()).orElse(null), ref);
  }

  private boolean isCurrent(TaskSpec task, AttemptRef ref) {
    return task != null
        && task.state() == TaskState.ASSIGNED
        && task.attempt() == ref.attempt()
        && node.equals(task.node());
  }

  private void runOne(AttemptRef ref) throws Exception {
    TaskSpec task = stateMachine.queries().task(ref.taskId()).orElse(null);
    if (!isCurrent(task, ref)) {
      mine.remove(ref);
      return;
    }
    Path inputFile = null;
    GatheredInputs gathered = null;
    RunningAttempt attempt;
    EarlyChunks.Attempt earlyChunks = early.attempt();
    try {
      if (task.step().gather()) {
        gathered = gatherInputs(task, ref);
      } else {
        inputFile = materializeInput(task, ref);
      }
      var spec =
          new AttemptSpec(
              task.taskId(),
              ref.attempt(),
              task.step().name(),
              task.step().script(),
              inputFile,
              task.inputName(),
              task.inputHash(),
              gathered,
              task.step().timeout(),
              task.step().env());
      attempt = runner.start(spec, earlyChunks);
    } catch (IOException e) {
      // Its input could not be fetched, or no process started: this node's failure, not the
      // script's, so the attempt goes back like a lost one instead of using up a retry.
      releaseInput(inputFile);
      releaseInputs(gathered);
      mine.remove(ref);
      giveBackQuietly(ref, "could not start on " + node + ": " + e.getMessage());
      return;
    }
    final GatheredInputs links = gathered;
    final AutoCloseable release =
        links == null
            ? attempt
            : () -> {
              try {
                attempt.close();
              } finally {
                releaseInputs(links);
              }
            };
    AttemptResult result;
    running.put(ref, attempt);
    liveLogs.put(ref, attempt.log());
    // A cancellation applied since the check above found nothing here to stop: look again.
    if (!stillAssigned(ref)) {
      attempt.cancel();
    }
    try {
      result = attempt.await();
    } finally {
      running.remove(ref);
    }
    if (result.succeeded()) {
      result = admit(result);
    }
    if (result.succeeded()) {
      // The chunks committed while the script wrote need not be sent again.
      earlyChunks.finish(EARLY_CHUNKS_WAIT_SECONDS);
    } else {
      earlyChunks.abandon();
    }
    final AutoCloseable releaseAttempt = release;
    if (!accepting && !result.succeeded()) {
      // Killed by this node's shutdown, not by its script: left assigned, so it is given back
      // on restart (or expired by the leader) without using up the step's retries.
      mine.remove(ref);
      releaseAttempt.close();
      return;
    }
    if (!result.succeeded()) {
      // Outputs that will not be stored may be what filled the disk the record is on: they go
      // now, not once the failure is reported, since recording that may wait for the room.
      releaseAttempt.close();
    }
    reporter.submit(
        new FinishedAttempt(
            ref,
            result,
            settled -> {
              if (settled) {
                ended.add(ref); // before it leaves mine: reconcile must see it in one or the other
              }
              mine.remove(ref);
              releaseAttempt.close();
            },
            inputFile,
            earlyChunks.stored()));
  }

  /**
   * The result, or a failure when storing its new chunks would leave the disk less free space
   * than {@link dev.grit.engine.object.DiskReserve}: the record on that disk must keep room.
   */
  private AttemptResult admit(AttemptResult result) {
    var counted = new HashSet<Digest>();
    long bytes = 0;
    for (OutputFile out : result.outputs()) {
      ObjectLayout layout = out.layout();
      long offset = 0;
      for (Digest d : layout.chunks()) {
        long length = Math.min(ChunkingHasher.CHUNK_SIZE, layout.size() - offset);
        if (counted.add(d) && !stateMachine.chunks().has(d)) {
          bytes += length;
        }
        offset += length;
      }
    }
    if (bytes == 0) {
      return result;
    }
    try {
      stateMachine.chunks().checkRoom(bytes);
      return result;
    } catch (IOException e) {
      return new AttemptResult(
          result.exitCode(),
          "outputs could not be stored: " + e.getMessage(),
          List.of(),
          result.logTail(),
          result.started(),
          result.finished());
    }
  }

  /**
   * An attempt waiting here. One that is not its task's first goes ahead of first attempts: its
   * task already lost a node (or failed and waited out its back-off), and the queue may hold many
   * attempts, so behind them it would wait for all of them, after the node timeout it already
   * waited.
   */
  private record Queued(AttemptRef ref, long arrival) implements Comparable<Queued> {
    /** Queued once per slot when the worker stops, so that idle slots see it at once. */
    static final Queued STOP = new Queued(null, Long.MAX_VALUE);

    boolean isRetry() {
      return ref != null && ref.attempt() > 1;
    }

    @Override
    public int compareTo(Queued other) {
      boolean retry = isRetry();
      if (retry != other.isRetry()) {
        return retry ? -1 : 1;
      }
      return Long.compare(arrival, other.arrival);
    }
  }

  /**
   * A gather task's inputs in a read-only directory of links to the {@link InputCache}'s copies,
   * and their list; chunks missing here are fetched from peers first.
   */
  private GatheredInputs gatherInputs(TaskSpec task, AttemptRef ref) throws IOException {
    var layouts = new HashMap<Digest, ObjectLayout>();
    var set = new ArrayList<GatheredInputs.Input>();
    for (var in : stateMachine.queries().inputs(task.taskId())) {
      ObjectLayout layout =
          stateMachine
              .queries()
              .object(in.hash())
              .orElseThrow(() -> new IOException("input object " + in.hash() + " is unknown"));
      fetcher.ensureLocal(layout);
      layouts.put(in.hash(), layout);
      set.add(new GatheredInputs.Input(in.name(), in.hash()));
    }
    return GatheredInputs.prepare(
        inputs.dir(), ref.taskId() + "-" + ref.attempt(), set, (in, target) -> cache.place(layouts.get(in.hash()), target));
  }

  /** Removes a gather task's input directory, then the cached copies beyond the budget. */
  private void releaseInputs(GatheredInputs gathered) {
    if (gathered != null) {
      gathered.close();
      cache.trim();
    }
  }

  /** The input resource's bytes in a read-only local file, or null for a start step. */
  private Path materializeInput(TaskSpec task, AttemptRef ref) throws IOException {
    if (task.inputHash() == null) {
      return null;
    }
    var layout =
        stateMachine
            .queries()
            .object(task.inputHash())
            .orElseThrow(() -> new IOException("input object " + task.inputHash() + " is unknown"));
    // After a snapshot install the record may know an input whose bytes are not here yet.
    fetcher.ensureLocal(layout);
    try (InputStream in = stateMachine.chunks().open(layout)) {
      return inputs.write(in);
    }
  }

  /**
   * Graceful stop: takes no more attempts, gives back the queued ones at once, lets the running
   * ones finish and be reported for up to {@code grace}, then kills what is left and gives it back
   * too, so every task it held runs elsewhere without waiting for the node timeout.
   */
  public void drain(java.time.Duration grace) throws Exception {
    accepting = false;
    reconciler.shutdownNow();
    var drained = new ArrayList<Queued>();
    queue.drainTo(drained);
    var queued = drained.stream().map(Queued::ref).toList();
    queued.forEach(mine::remove);
    giveBack(queued, "node " + node + " is shutting down");
    long deadline = System.nanoTime() + grace.toNanos();
    while (!running.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    var killed = new ArrayList<AttemptRef>();
    for (var e : running.entrySet()) {
      killed.add(e.getKey());
      e.getValue().cancel();
    }
    slots.forEach(t -> queue.add(Queued.STOP));
    for (Thread t : slots) {
      t.join(10_000);
    }
    reporter.close();
    giveBack(killed, "node " + node + " shut down before the attempt ended");
  }

  private void giveBackQuietly(AttemptRef ref, String reason) {
    try {
      giveBack(List.of(ref), reason);
    } catch (Exception e) {
      // Left assigned: the leader expires it when this node's silence exceeds the node timeout.
      LOG.error("giving back attempt {} of task {} failed: {}", ref.attempt(), ref.taskId(), e.toString());
    }
  }

  /** The attempt is done with its input file (null for a start step). */
  private void releaseInput(Path inputFile) {
    try {
      if (inputFile != null) {
        inputs.release(inputFile);
      }
    } catch (IOException e) {
      LOG.warn("removing input {} failed: {}", inputFile, e.toString());
    }
  }

  private void giveBack(List<AttemptRef> refs, String reason) throws Exception {
    if (refs.isEmpty()) {
      return;
    }
    var expiries = new ArrayList<ExpireAttempts.Expiry>();
    refs.forEach(r -> expiries.add(new ExpireAttempts.Expiry(r.taskId(), r.attempt(), reason)));
    raft.submit(new ExpireAttempts(clock.millis(), expiries)).get(60, TimeUnit.SECONDS);
  }

  /** Stops taking attempts, kills the running ones, and reports what finished. */
  @Override
  public void close() {
    accepting = false;
    reconciler.shutdownNow();
    running.values().forEach(RunningAttempt::cancel);
    slots.forEach(t -> queue.add(Queued.STOP));
    for (Thread t : slots) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reporter.close();
    early.close();
  }
}
