package dev.grit.consensus.raft;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.ApplyResult;
import dev.grit.consensus.state.DurableFiles;
import dev.grit.consensus.state.SqlState;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.command.CarriesChunks;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * grit's replicated state machine. Metadata commands are applied to {@link SqlState}; object
 * bytes travel beside the log as state-machine data ({@link PutChunks}, or with a small {@link
 * ReportResults}): {@link
 * #startTransaction} moves them out of the entry, {@link #write} stores them in the {@link
 * ChunkStore} on every replica before the entry counts as written, and {@link #read} serves them
 * back when the leader sends the entry to a follower that lagged.
 *
 * <p>Invalid requests are rejected in {@link #startTransaction}, before they are logged. An entry
 * that cannot be applied is fatal for this replica (see {@link FatalErrorHandler}), but for a full
 * disk: that is waited out.
 */
public final class GritStateMachine extends BaseStateMachine {
  private static final Logger LOG = LoggerFactory.getLogger(GritStateMachine.class);

  private static final long DISK_FULL_RETRY_MILLIS = 100;
  private static final long DISK_FULL_LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final Path stateFile;
  private final ChunkStore chunks;
  private final Consumer<List<StateEvent>> listener;
  private final FatalErrorHandler fatal;
  private final DurableFiles durable;
  private final int supportedRules;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final ExecutorService chunkWriter = Executors.newSingleThreadExecutor(daemon("grit-chunk-writer"));
  /** Reads chunk files back for followers: blocking reads, kept off Ratis's and the common pool. */
  private final ExecutorService chunkReader = Executors.newFixedThreadPool(2, daemon("grit-chunk-reader"));
  /** Two of the largest entries: one per follower catching up, in a group of three. */
  private final RecentReads recentReads = new RecentReads(2L * RaftNode.MAX_COMMAND_BYTES);
  /** Added to every read for a follower, as a slow disk would: fault injection for tests. */
  volatile long slowReadsMillis;
  /** So many of the next chunk-carrying log appends here fail: fault injection for tests. */
  final AtomicInteger failingAppends = new AtomicInteger();
  private volatile SqlState state;
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  /** Why this replica stopped storing or applying entries, or null while it works. */
  private volatile String failure;

  /**
   * @param stateFile the SQLite file of the record
   * @param listener told what each applied entry changed, on the apply thread: must not block
   */
  public GritStateMachine(
      Path stateFile,
      ChunkStore chunks,
      Consumer<List<StateEvent>> listener,
      FatalErrorHandler fatal) {
    this(stateFile, chunks, listener, fatal, DurableFiles.SYSTEM);
  }

  /** As above, forcing snapshot and record files to the disk through {@code durable}. */
  public GritStateMachine(
      Path stateFile,
      ChunkStore chunks,
      Consumer<List<StateEvent>> listener,
      FatalErrorHandler fatal,
      DurableFiles durable) {
    this(stateFile, chunks, listener, fatal, durable, RulesVersion.SUPPORTED);
  }

  /** As above, for code that applies rules up to {@code supportedRules} (tests of upgrades). */
  public GritStateMachine(
      Path stateFile,
      ChunkStore chunks,
      Consumer<List<StateEvent>> listener,
      FatalErrorHandler fatal,
      DurableFiles durable,
      int supportedRules) {
    this.supportedRules = supportedRules;
    this.stateFile = stateFile;
    this.chunks = chunks;
    this.listener = listener;
    this.fatal = fatal;
    this.durable = durable;
  }

  /** Reads of the local record. */
  public StateQueries queries() {
    return state.queries();
  }

  public long appliedIndex() {
    return state.appliedIndex();
  }

  public ChunkStore chunks() {
    return chunks;
  }

  /** Why this replica can no longer store or apply log entries, or null while it can. */
  public String failure() {
    return failure;
  }

  private void fail(String what, Throwable cause) {
    failure = what + ": " + cause.getMessage();
    fatal.fatal(what, cause);
  }

  /** How often this member saw the group's leader change since it started (a metric). */
  private final AtomicLong leaderChanges = new AtomicLong();

  /** Local bookkeeping only: it does not touch the record, so apply stays deterministic. */
  @Override
  public void notifyLeaderChanged(
      org.apache.ratis.protocol.RaftGroupMemberId groupMemberId,
      org.apache.ratis.protocol.RaftPeerId newLeaderId) {
    leaderChanges.incrementAndGet();
  }

  /** The leader changes this member was told of since it started, its first leader included. */
  public long leaderChanges() {
    return leaderChanges.get();
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    getLifeCycle()
        .startAndTransition(
            () -> {
              super.initialize(server, groupId, raftStorage);
              storage.init(raftStorage);
              state = SqlState.open(stateFile, durable, supportedRules);
              SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
              if (snapshot != null) {
                if (state.appliedIndex() < snapshot.getIndex()) {
                  restoreFrom(snapshot);
                }
                setLastAppliedTermIndex(snapshot.getTermIndex());
              }
            });
  }

  /** Ratis pauses the state machine before it installs a snapshot, then calls reinitialize. */
  @Override
  public synchronized void pause() {
    if (getLifeCycleState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  @Override
  public synchronized void reinitialize() throws IOException {
    // A snapshot was installed from the leader: it replaces the record.
    SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
    if (snapshot != null) {
      restoreFrom(snapshot);
      setLastAppliedTermIndex(snapshot.getTermIndex());
      listener.accept(List.of(new StateEvent.SnapshotInstalled(snapshot.getIndex())));
    }
    if (getLifeCycleState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  private void restoreFrom(SingleFileSnapshotInfo snapshot) throws IOException {
    Path file = snapshot.getFile().getPath();
    if (snapshot.hasMd5() && !md5Of(file).equals(snapshot.getFile().getFileDigest())) {
      throw new IOException("snapshot " + file + " does not match its MD5");
    }
    LOG.info("Restoring the record from snapshot {}", snapshot.getTermIndex());
    state.replaceWith(file);
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public long takeSnapshot() throws IOException {
    // The record's own index, not Ratis's: that one also advances over entries that change
    // nothing here, and over one this replica failed to apply, which a snapshot claiming it
    // would then skip for good after a restart.
    TermIndex last = TermIndex.valueOf(state.appliedTerm(), state.appliedIndex());
    if (last.getIndex() <= 0) {
      return -1;
    }
    var file = storage.getSnapshotFile(last.getTerm(), last.getIndex()).toPath();
    // Ratis purges the log up to the returned index: the snapshot must be on disk first.
    state.backupTo(file);
    MD5Hash md5 = md5Of(file);
    MD5FileUtil.saveMD5File(file.toFile(), md5);
    durable.force(MD5FileUtil.getDigestFileForFile(file.toFile()).toPath());
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file, md5), last));
    LOG.info("Took snapshot {} ({} bytes)", last, Files.size(file));
    return last.getIndex();
  }

  /**
   * The file's MD5, read as a stream. Ratis's own helper maps the file into memory, and the
   * mapping (with the disk space of a snapshot deleted since) lasts until a garbage collection.
   */
  private static MD5Hash md5Of(Path file) throws IOException {
    MessageDigest md5 = MD5FileUtil.newMD5();
    try (var in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 16];
      for (int n; (n = in.read(buffer)) > 0; ) {
        md5.update(buffer, 0, n);
      }
    }
    return MD5Hash.newInstance(md5.digest());
  }

  /**
   * The only query: this member's applied index. With linearizable reads on, Ratis answers it
   * after a ReadIndex round, which makes it a read point that includes every earlier commit.
   */
  @Override
  public CompletableFuture<Message> query(Message request) {
    TermIndex applied = getLastAppliedTermIndex();
    return CompletableFuture.completedFuture(
        Message.valueOf(Long.toString(applied == null ? 0 : applied.getIndex())));
  }

  // ---- before logging: validate, split bytes from metadata ----------------------------------

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    ByteString content = request.getMessage().getContent();
    var builder = TransactionContext.newBuilder().setStateMachine(this).setClientRequest(request);
    if (content.size() > RaftNode.MAX_COMMAND_BYTES) {
      // gRPC's own cap is a little higher (headers, appends of several entries): this one names
      // the limit to the proposer.
      TransactionContext trx = builder.setLogData(ByteString.EMPTY).build();
      trx.setException(
          new IllegalArgumentException(
              "a command of "
                  + content.size()
                  + " bytes is larger than the "
                  + RaftNode.MAX_COMMAND_BYTES
                  + " bytes a command may have"));
      return trx;
    }
    CommandCodec.Decoded decoded;
    try {
      decoded = CommandCodec.decode(content.newInput());
    } catch (IllegalArgumentException e) {
      TransactionContext trx = builder.setLogData(content).build();
      trx.setException(new IllegalArgumentException("malformed command: " + e.getMessage()));
      return trx;
    }
    Command command = decoded.command();
    // A copy: a substring would keep the whole request (megabytes of chunk bytes) alive for as
    // long as the log's cache keeps the entry.
    ByteString header = UnsafeByteOperations.unsafeWrap(content.substring(0, decoded.headerLength()).toByteArray());
    ByteString data = content.substring(decoded.headerLength());
    builder.setLogData(header).setStateMachineContext(command);
    if (command instanceof CarriesChunks c && !c.chunks().isEmpty()) {
      builder.setStateMachineData(data);
    }
    TransactionContext trx = builder.build();
    String invalid = validate(command, data);
    if (invalid != null) {
      trx.setException(new IllegalArgumentException(invalid));
    } else if (command instanceof ReportResults r) {
      Set<Digest> missing = missingChunks(r);
      if (!missing.isEmpty()) {
        trx.setException(ChunksMissingException.of(missing));
      }
    }
    return trx;
  }

  /** Why the command must not be logged, or null. Checks only what the proposer could get wrong. */
  private String validate(Command command, ByteString data) {
    if (command instanceof CarriesChunks c) {
      String invalid = validateChunks(c, data);
      if (invalid != null) {
        return invalid;
      }
    }
    if (command instanceof SubmitRun s && s.steps().isEmpty()) {
      return "a manifest needs at least one step";
    }
    if (command instanceof Gc) {
      int rules = state.queries().rulesVersion();
      if (rules < RulesVersion.RETENTION) {
        return "gc needs rules version "
            + RulesVersion.RETENTION
            + " and the cluster follows "
            + rules
            + ": upgrade every member first";
      }
    }
    if (command instanceof SubmitRun s && s.rulesNeeded() > RulesVersion.INITIAL) {
      return rulesTooOld(s);
    }
    if (command instanceof RetryTasks && state.queries().rulesVersion() < RulesVersion.RETRY) {
      // Applied, it would be refused all the same; logged, it is a format older members lack.
      return "retrying needs rules version "
          + RulesVersion.RETRY
          + ", and the cluster still follows rules version "
          + state.queries().rulesVersion()
          + ": upgrade every member, then retry again";
    }
    return null;
  }

  /**
   * Why a submission needs newer rules than this record follows, or null when it does not. The
   * record only ever raises its rules, and entries apply in log order, so one accepted here is
   * applied under rules at least as new by every replica; replicas that do not know those rules
   * stopped at the raise, and never meet its newer format.
   */
  private String rulesTooOld(SubmitRun s) {
    int rules = state.queries().rulesVersion();
    String why = s.whyRulesTooOld(rules);
    if (why == null) {
      return null;
    }
    var older =
        state.queries().nodes().stream()
            .filter(n -> n.rulesVersion() < s.rulesNeeded())
            .map(StateQueries.NodeRow::id)
            .toList();
    return why
        + (older.isEmpty()
            ? ": every member supports it, and the leader raises the rules shortly; submit again"
            : ": upgrade the members still on an older release (" + String.join(", ", older) + ")");
  }

  /**
   * Nothing committed may point at bytes the cluster does not have: the chunks a report names
   * that neither travel with it nor are stored here. Judged for the whole batch at once, so the
   * worker learns every chunk to send in one answer.
   */
  private Set<Digest> missingChunks(ReportResults r) {
    var attached = new HashSet<Digest>();
    r.chunks().forEach(chunk -> attached.add(chunk.digest()));
    var missing = new LinkedHashSet<Digest>();
    for (var report : r.reports()) {
      addMissing(report.log(), attached, missing);
      for (var out : report.outputs()) {
        addMissing(out.layout(), attached, missing);
      }
    }
    return missing;
  }

  private void addMissing(ObjectLayout layout, Set<Digest> attached, Set<Digest> missing) {
    for (Digest d : layout.chunks()) {
      if (!attached.contains(d) && !chunks.has(d)) {
        missing.add(d);
      }
    }
  }

  private static String validateChunks(CarriesChunks c, ByteString data) {
    if (data.size() != c.totalBytes()) {
      return "the entry carries " + data.size() + " chunk bytes, its header says " + c.totalBytes();
    }
    for (ChunkStore.Chunk chunk : chunksOf(c, data)) {
      if (!chunk.verify()) {
        return "chunk " + chunk.digest() + " does not hash to its name";
      }
    }
    return null;
  }

  /** The entry's chunks over its data, without copying it. */
  private static List<ChunkStore.Chunk> chunksOf(CarriesChunks c, ByteString data) {
    var list = new ArrayList<ChunkStore.Chunk>(c.chunks().size());
    int off = 0;
    for (var chunk : c.chunks()) {
      ByteString bytes = data.substring(off, off + chunk.length());
      list.add(new ChunkStore.Chunk(chunk.digest(), bytes.asReadOnlyByteBufferList()));
      off += chunk.length();
    }
    return list;
  }

  // ---- state-machine data: chunk bytes beside the log ----------------------------------------

  @Override
  public CompletableFuture<?> write(LogEntryProto entry) {
    return write(entry, null);
  }

  @Override
  public CompletableFuture<?> write(LogEntryProto entry, TransactionContext context) {
    if (!(command(entry, context) instanceof CarriesChunks p) || p.chunks().isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    // The leader checked the bytes in startTransaction; every other replica checks them here, so
    // no replica stores bytes that do not hash to their names, whatever the wire did to them.
    boolean checked = context != null && context.getStateMachineContext() instanceof Command;
    if (!checked && failingAppends.get() > 0 && failingAppends.getAndDecrement() > 0) {
      throw new IllegalStateException("injected: appending log entry " + TermIndex.valueOf(entry) + " failed");
    }
    ByteString data = entry.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
    if (!checked && sentAsCollected(p, data)) {
      LOG.info("log entry {} came without its chunks: a later gc collected them", TermIndex.valueOf(entry));
      return CompletableFuture.completedFuture(null);
    }
    CompletableFuture<Void> stored = stored(entry.getIndex());
    return CompletableFuture.runAsync(
        () -> {
          try {
            // The record, the log and the snapshots share this disk: chunks never take its
            // reserve. A refused write fails the log append, which this replica cannot survive
            // (Ratis stops its log), so it stops and is started again once there is room.
            chunks.checkRoom(data.size());
            if (data.size() != p.totalBytes()) {
              throw new IOException(
                  "the entry carries " + data.size() + " chunk bytes, its header says "
                      + p.totalBytes());
            }
            List<ChunkStore.Chunk> list = chunksOf(p, data);
            if (!checked) {
              for (ChunkStore.Chunk chunk : list) {
                if (!chunk.verify()) {
                  throw new IOException("chunk " + chunk.digest() + " does not hash to its name");
                }
              }
            }
            chunks.putAll(list);
            rememberWritten(entry.getIndex(), list);
          } catch (IOException e) {
            fail("storing the chunks of log entry " + TermIndex.valueOf(entry), e);
            throw new java.io.UncheckedIOException(e);
          }
        },
        chunkWriter)
        .whenComplete(
            (ok, error) -> {
              if (error == null) {
                stored.complete(null);
              } else {
                stored.completeExceptionally(error);
              }
              storing.remove(entry.getIndex(), stored);
            });
  }

  /**
   * Chunk writes of logged entries not stored yet, by log index. The leader sends an entry to
   * followers as soon as it is in its log, and the log's cache keeps no chunk bytes: a read for a
   * follower may come before the leader's own write of them has even started, so it waits on the
   * same future as the write (whichever comes first makes it).
   */
  private final ConcurrentHashMap<Long, CompletableFuture<Void>> storing = new ConcurrentHashMap<>();

  /** How long a read waits for its entry's chunks to be stored before it fails (and is retried). */
  private static final long STORE_WAIT_SECONDS = 30;

  private CompletableFuture<Void> stored(long index) {
    return storing.computeIfAbsent(index, i -> new CompletableFuture<>());
  }

  /** Chunks stored by entries not yet applied, oldest first; used on the chunk writer only. */
  private final ArrayDeque<Written> written = new ArrayDeque<>();

  private record Written(long index, Set<Digest> chunks) {}

  /** Collections applied but not yet carried out: while any waits, no write is forgotten. */
  private final AtomicInteger pendingCollections = new AtomicInteger();

  private void rememberWritten(long index, List<ChunkStore.Chunk> list) {
    if (pendingCollections.get() == 0) {
      // Entries applied already cannot meet a Gc applied after them.
      long applied = state.appliedIndex();
      while (!written.isEmpty() && written.peekFirst().index() <= applied) {
        written.removeFirst();
      }
    }
    var digests = new HashSet<Digest>();
    list.forEach(c -> digests.add(c.digest()));
    written.addLast(new Written(index, digests));
  }

  /**
   * Deletes the chunks a Gc (log entry {@code index}) collected, on the chunk writer, so in
   * order with the writes of later entries: a later entry may have stored one of them again
   * before the Gc was applied here (append runs ahead of apply), and that one stays.
   */
  private void collect(long index, List<Digest> digests) {
    pendingCollections.incrementAndGet();
    chunkWriter.execute(
        () -> {
          var keep = new HashSet<Digest>();
          for (Written w : written) {
            if (w.index() > index) {
              keep.addAll(w.chunks());
            }
          }
          var gone = new ArrayList<Digest>(digests.size());
          for (Digest d : digests) {
            if (!keep.contains(d)) {
              gone.add(d);
            }
          }
          try {
            long freed = chunks.deleteAll(gone);
            LOG.info("gc at log entry {} deleted {} chunks ({} bytes of chunk files)", index, gone.size(), freed);
          } catch (IOException e) {
            // The record no longer points at them: what is left only takes space until the
            // next collection of the same chunks, or forever. Nothing is wrong with the replica.
            LOG.warn("gc at log entry {} could not delete every chunk: {}", index, e.toString());
          } finally {
            pendingCollections.decrementAndGet();
          }
        });
  }

  @Override
  public CompletableFuture<ByteString> read(LogEntryProto entry) {
    return read(entry, null);
  }

  /**
   * The chunk bytes of an entry the leader sends to a follower: still in memory while the entry
   * waits to be applied here (its transaction holds them), else read back from the store once
   * they are stored; asked again for the same entry, the same read ({@link RecentReads}).
   */
  @Override
  public CompletableFuture<ByteString> read(LogEntryProto entry, TransactionContext context) {
    if (!(command(entry, context) instanceof CarriesChunks p) || p.chunks().isEmpty()) {
      return CompletableFuture.completedFuture(ByteString.EMPTY);
    }
    if (context != null && context.getStateMachineLogEntry() != null) {
      ByteString held = context.getStateMachineLogEntry().getStateMachineEntry().getStateMachineData();
      if (held.size() == p.totalBytes() && held.size() > 0) {
        return CompletableFuture.completedFuture(held);
      }
    }
    return recentReads.get(
        TermIndex.valueOf(entry), p.totalBytes(), () -> readStored(entry.getIndex(), p));
  }

  private CompletableFuture<ByteString> readStored(long index, CarriesChunks p) {
    CompletableFuture<Void> stored = stored(index);
    CompletableFuture<Void> ready;
    if (p.chunks().stream().allMatch(c -> chunks.has(c.digest()))) {
      storing.remove(index, stored); // stored already, or (an entry that was truncated) never to be
      ready = CompletableFuture.completedFuture(null);
    } else if (index <= state.appliedIndex()) {
      // Stored here before it was applied, and deleted since: no write is coming.
      storing.remove(index, stored);
      return CompletableFuture.supplyAsync(() -> collectedSince(index, p), chunkReader);
    } else {
      ready =
          stored
              .copy()
              .orTimeout(STORE_WAIT_SECONDS, TimeUnit.SECONDS)
              .whenComplete(
                  (ok, error) -> {
                    if (error != null) {
                      storing.remove(index, stored);
                    }
                  });
    }
    return ready.thenApplyAsync(
        ignored -> {
          try {
            long delay = slowReadsMillis;
            if (delay > 0) {
              Thread.sleep(delay);
            }
            ByteString out = ByteString.EMPTY;
            for (var chunk : p.chunks()) {
              out = out.concat(UnsafeByteOperations.unsafeWrap(chunks.get(chunk.digest())));
            }
            return out;
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.util.concurrent.CancellationException("closing");
          }
        },
        chunkReader);
  }

  /**
   * Sent in place of the chunk bytes of an entry whose chunks a later {@code Gc} deleted: a
   * follower that lagged behind that Gc stores none of them (the Gc, applied, will not need them)
   * instead of waiting forever for bytes no member has.
   */
  static final ByteString COLLECTED_SINCE = ByteString.copyFromUtf8("grit: chunks collected since");

  /**
   * The marker for an applied entry some of whose chunks are gone from this store, when nothing
   * the record names is made of them (a Gc collected them); else the read fails, to be retried
   * once chunk repair has fetched them back.
   */
  private ByteString collectedSince(long index, CarriesChunks p) {
    var missing = new HashSet<Digest>();
    for (var chunk : p.chunks()) {
      if (!chunks.has(chunk.digest())) {
        missing.add(chunk.digest());
      }
    }
    if (state.queries().anyObjectUses(missing)) {
      throw new java.io.UncheckedIOException(
          new IOException(
              missing.size() + " chunks of log entry " + index
                  + " are missing from this store, and the record still names them"));
    }
    LOG.info("log entry {} is sent without its chunks: a gc collected {} of them since", index, missing.size());
    return COLLECTED_SINCE;
  }

  /** True when the leader sent {@link #COLLECTED_SINCE} for the entry's chunk bytes. */
  private static boolean sentAsCollected(CarriesChunks p, ByteString data) {
    if (!data.equals(COLLECTED_SINCE)) {
      return false;
    }
    // Bytes that merely look like the marker are the entry's own when they hash to its chunks.
    return data.size() != p.totalBytes()
        || !chunksOf(p, data).stream().allMatch(ChunkStore.Chunk::verify);
  }

  // ---- apply ---------------------------------------------------------------------------------

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long term = entry.getTerm();
    long index = entry.getIndex();
    if (failure != null) {
      // Past an entry it could not apply, applying later ones would make a record no peer has.
      return CompletableFuture.failedFuture(new IllegalStateException(failure));
    }
    try {
      Command command = command(entry, trx);
      ApplyResult result = applyWhenThereIsRoom(term, index, command);
      updateLastAppliedTermIndex(term, index);
      if (!result.events().isEmpty()) {
        for (StateEvent e : result.events()) {
          if (e instanceof StateEvent.ChunksCollected c) {
            collect(c.index(), c.chunks());
          }
        }
        listener.accept(result.events());
      }
      return CompletableFuture.completedFuture(
          Message.valueOf(ByteString.copyFrom(ReplyCodec.encode(result.reply()))));
    } catch (InterruptedException e) {
      // Only a closing server interrupts its apply thread while it waits for room.
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    } catch (Exception e) {
      fail("applying log entry " + TermIndex.valueOf(term, index), e);
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Applies the entry, waiting out a full disk: the failed transaction changed nothing, so the
   * same entry is applied again once there is room (a script filling the disk ends, its outputs
   * are discarded). Stopping the replica instead would let any script take the node down.
   */
  private ApplyResult applyWhenThereIsRoom(long term, long index, Command command)
      throws SQLException, InterruptedException {
    long waitingSince = 0;
    while (true) {
      try {
        ApplyResult result = state.apply(term, index, command);
        if (waitingSince != 0) {
          LOG.info("applied log entry {}: the disk has room again", TermIndex.valueOf(term, index));
        }
        return result;
      } catch (SQLException e) {
        if (!SqlState.isDiskFull(e)) {
          throw e;
        }
        long now = System.nanoTime();
        if (waitingSince == 0 || now - waitingSince > DISK_FULL_LOG_EVERY_NANOS) {
          LOG.warn(
              "the disk is full: log entry {} waits for room to be applied ({})",
              TermIndex.valueOf(term, index),
              e.getMessage());
          waitingSince = now;
        }
        Thread.sleep(DISK_FULL_RETRY_MILLIS);
      }
    }
  }

  private static Command command(LogEntryProto entry, TransactionContext context) {
    if (context != null && context.getStateMachineContext() instanceof Command c) {
      return c;
    }
    return CommandCodec.decode(entry.getStateMachineLogEntry().getLogData().newInput()).command();
  }

  private static ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() throws IOException {
    chunkReader.shutdown(); // queued reads still end, their futures completed either way
    chunkWriter.shutdown();
    try {
      // A chunk write still in flight must not meet a closed RocksDB.
      chunkWriter.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      SqlState s = state;
      if (s != null) {
        s.close();
      }
      super.close();
    } finally {
      closed.complete(null);
    }
  }

  /** Completes once {@link #close()} has closed the record: nothing more is applied to it. */
  CompletableFuture<Void> closed() {
    return closed;
  }
}
