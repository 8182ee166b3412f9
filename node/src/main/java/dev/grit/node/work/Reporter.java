package dev.grit.node.work;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.ChunksMissingException;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.execute.OutputFile;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports finished attempts to the record, many at once, in one {@link ReportResults} entry
 * whose new chunks travel beside it (bytes beside the log); when they exceed {@link #PUT_BYTES},
 * the excess goes ahead in {@link PutChunks} entries, up to {@link #PUTS_IN_FLIGHT} of them at
 * once, so that reading and hashing the next chunks here overlaps storing the last ones on every
 * member (and memory stays bounded whatever the size of an output). A chunk stored here, or
 * committed by {@link EarlyChunks} while the script wrote, is not sent: when the leader lacks it
 * all the same, it names it ({@link ChunksMissingException}) and the chunk follows in the next
 * proposal of the report, from the store or read from the output again. A problem of one attempt
 * never gives back the whole batch. Staging files are released only after the report is applied.
 */
final class Reporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Reporter.class);
  static final int PUT_BYTES = 2 * ChunkingHasher.CHUNK_SIZE;
  static final int PUTS_IN_FLIGHT = 4;
  /** How long a report or a chunk entry may take to commit before its attempts go back. */
  private static final int COMMIT_WAIT_SECONDS = 120;
  private static final int MAX_BATCH = 512;
  private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  /** Output entries in one report; a larger attempt goes alone. */
  private static final int MAX_OUTPUTS_PER_ENTRY = 20_000;
  /** Rounds of sending the chunks the leader says it lacks before the batch is given back. */
  private static final int MAX_ROUNDS = 5;

  private final String node;
  private final RaftNode raft;
  private final ChunkStore chunks;
  private final Consumer<Path> releaseInput;
  private final BlockingQueue<FinishedAttempt> queue = new LinkedBlockingQueue<>();
  /** Queued by {@link #close()} so that the loop sees at once that it is to stop. */
  private static final FinishedAttempt WAKE = new FinishedAttempt(null, null, settled -> {}, null);
  private final Thread thread;
  private volatile boolean running = true;

  /** @param releaseInput told when an attempt's input file is no longer needed */
  Reporter(String node, RaftNode raft, ChunkStore chunks, Consumer<Path> releaseInput) {
    this.node = node;
    this.raft = raft;
    this.chunks = chunks;
    this.releaseInput = releaseInput;
    this.thread = new Thread(this::loop, "grit-reporter");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void submit(FinishedAttempt finished) {
    queue.add(finished);
  }

  private void loop() {
    while (running || !queue.isEmpty()) {
      List<FinishedAttempt> batch = new ArrayList<>();
      boolean settled = false;
      try {
        FinishedAttempt first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null || first == WAKE) {
          continue;
        }
        batch.add(first);
        int outputs = first.result().outputs().size();
        // Linger briefly: results that finish together share one entry, which is what makes
        // thousands of tiny tasks cheap.
        long lingerUntil = System.nanoTime() + LINGER_NANOS;
        while (batch.size() < MAX_BATCH && outputs < MAX_OUTPUTS_PER_ENTRY) {
          long wait = lingerUntil - System.nanoTime();
          FinishedAttempt next =
              wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
          if (next == null || next == WAKE) {
            break;
          }
          batch.add(next);
          outputs += next.result().outputs().size();
        }
        report(batch);
        settled = true;
      } catch (InterruptedException e) {
        return;
      } catch (TimeoutException e) {
        LOG.error("reporting {} attempts timed out; they will be retried", batch.size(), e);
        settled = giveBack(batch, "its report was not committed within " + COMMIT_WAIT_SECONDS + " s");
      } catch (Exception e) {
        LOG.error("reporting {} attempts failed; they will be retried", batch.size(), e);
        settled = giveBack(batch, "its report failed: " + e);
      } finally {
        for (FinishedAttempt f : batch) {
          release(f, settled);
        }
      }
    }
  }

  private void report(List<FinishedAttempt> batch) throws Exception {
    var reports = new LinkedHashMap<FinishedAttempt, ReportResults.Report>();
    var upload = new ChunkUpload();
    for (FinishedAttempt f : batch) {
      upload.storedEarly.addAll(f.storedEarly());
      reports.put(f, prepare(f, upload));
    }
    for (int round = 1; ; round++) {
      try {
        // What is left travels with the report itself, after every chunk sent ahead is stored.
        upload.awaitPuts();
        raft.submit(new ReportResults(List.copyOf(reports.values()), upload.pending), upload.data)
            .get(COMMIT_WAIT_SECONDS, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof ChunksMissingException missing) || round == MAX_ROUNDS) {
          throw e;
        }
        // The leader lacks chunks that this worker holds and so did not send: send them now. An
        // attempt whose bytes are gone here as well goes back alone; the rest of the batch stands.
        var gone = new HashSet<Digest>();
        for (Digest d : missing.missing()) {
          if (!upload.resend(d)) {
            gone.add(d);
          }
        }
        var lost = new ArrayList<FinishedAttempt>();
        reports.forEach((f, report) -> {
          if (pointsAt(report, gone)) {
            lost.add(f);
          }
        });
        if (!lost.isEmpty()) {
          lost.forEach(reports::remove);
          giveBack(lost, "chunks of its outputs are stored neither here nor at the leader");
        }
        if (reports.isEmpty()) {
          return;
        }
      }
    }
  }

  private static boolean pointsAt(ReportResults.Report report, Set<Digest> digests) {
    if (digests.isEmpty()) {
      return false;
    }
    if (report.log().chunks().stream().anyMatch(digests::contains)) {
      return true;
    }
    return report.outputs().stream()
        .anyMatch(out -> out.layout().chunks().stream().anyMatch(digests::contains));
  }

  /** Queues the attempt's new chunks and builds its report; unreadable outputs fail the attempt. */
  private ReportResults.Report prepare(FinishedAttempt f, ChunkUpload upload) throws Exception {
    var r = f.result();
    byte[] logTail = r.logTail();
    ObjectLayout log = ObjectLayout.of(logTail);
    String error = r.error();
    var outputs = new ArrayList<ReportResults.Output>();
    if (r.succeeded()) {
      try {
        for (OutputFile out : r.outputs()) {
          upload.add(out);
          outputs.add(new ReportResults.Output(out.name(), out.layout()));
        }
      } catch (IOException e) {
        error = "outputs could not be stored: " + e.getMessage();
        outputs.clear();
      }
    }
    upload.add(log, logTail);
    return new ReportResults.Report(
        f.ref().taskId(),
        f.ref().attempt(),
        node,
        r.exitCode(),
        error,
        outputs,
        log,
        r.started().toEpochMilli(),
        r.finished().toEpochMilli(),
        ThreadLocalRandom.current().nextInt(1000));
  }

  /**
   * Attempts whose report could not be recorded go back to pending rather than hang; returns
   * whether that was committed.
   */
  private boolean giveBack(List<FinishedAttempt> batch, String why) {
    var expiries = new ArrayList<ExpireAttempts.Expiry>();
    for (FinishedAttempt f : batch) {
      expiries.add(new ExpireAttempts.Expiry(f.ref().taskId(), f.ref().attempt(), why));
    }
    try {
      raft.submit(new ExpireAttempts(System.currentTimeMillis(), expiries))
          .get(60, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      LOG.error("giving back {} attempts failed too: {}", batch.size(), e.toString());
      return false;
    }
  }

  private void release(FinishedAttempt f, boolean settled) {
    try {
      f.release().release(settled);
    } catch (Exception e) {
      LOG.warn("releasing attempt {} failed: {}", f.ref(), e.toString());
    }
    releaseInput.accept(f.inputFile());
  }

  /** Chunks to send, deduplicated, sent in bounded entries as they fill up. */
  private final class ChunkUpload {
    private final Map<Digest, Integer> sizes = new LinkedHashMap<>();
    private final List<PutChunks.Chunk> pending = new ArrayList<>();
    /** Committed by {@link EarlyChunks}, perhaps not yet applied here. */
    final Set<Digest> storedEarly = new HashSet<>();
    /**
     * Where the chunks of outputs that were not sent are, should the leader lack them all the
     * same: one stored early while a long script ran may have been collected as loose since.
     */
    private final Map<Digest, Located> unsent = new HashMap<>();
    private final ArrayDeque<CompletableFuture<?>> puts = new ArrayDeque<>();
    private ByteString data = ByteString.EMPTY;

    private record Located(OutputFile out, long offset, int length) {}

    void add(OutputFile out) throws Exception {
      var layout = out.layout();
      long offset = 0;
      for (Digest d : layout.chunks()) {
        int length = (int) Math.min(ChunkingHasher.CHUNK_SIZE, layout.size() - offset);
        if (!known(d)) {
          queue(d, chunk(out, d, offset, length));
        } else {
          unsent.putIfAbsent(d, new Located(out, offset, length));
        }
        offset += length;
      }
    }

    private static ByteString chunk(OutputFile out, Digest d, long offset, int length)
        throws IOException {
      if (out.isHeld()) {
        return UnsafeByteOperations.unsafeWrap(out.bytes(), (int) offset, length);
      }
      byte[] bytes = OutputFile.readStaged(out.staging(), offset, length);
      // The leader checks every chunk again before logging it; this check only names the file
      // whose bytes changed under a script's process that outlived it.
      if (!out.sealed() && !Digest.of(bytes).equals(d)) {
        throw new IOException(out.name() + " changed after it was hashed");
      }
      return UnsafeByteOperations.unsafeWrap(bytes);
    }

    void add(ObjectLayout layout, byte[] bytes) throws Exception {
      if (!layout.chunks().isEmpty() && !known(layout.digest())) {
        queue(layout.digest(), ByteString.copyFrom(bytes));
      }
    }

    /**
     * Queues a chunk the leader lacks although this node holds it, in its store or in the output
     * it was not sent from; false when it holds it in neither.
     */
    boolean resend(Digest d) throws Exception {
      if (pending.stream().anyMatch(c -> c.digest().equals(d))) {
        return true;
      }
      if (chunks.has(d)) {
        queue(d, UnsafeByteOperations.unsafeWrap(chunks.get(d)));
        return true;
      }
      Located at = unsent.get(d);
      if (at == null) {
        return false;
      }
      ByteString bytes;
      try {
        // Checked against its name when the script's processes could have changed it since.
        bytes = chunk(at.out(), d, at.offset(), at.length());
      } catch (IOException e) {
        return false;
      }
      queue(d, bytes);
      return true;
    }

    private boolean known(Digest d) {
      return sizes.containsKey(d) || storedEarly.contains(d) || chunks.has(d);
    }

    private void queue(Digest d, ByteString bytes) throws Exception {
      if (data.size() + bytes.size() > PUT_BYTES && !pending.isEmpty()) {
        flush();
      }
      sizes.put(d, bytes.size());
      pending.add(new PutChunks.Chunk(d, bytes.size()));
      data = data.concat(bytes);
    }

    /** Sends what is queued in its own entry, ahead of the report, once fewer are in flight. */
    void flush() throws Exception {
      if (pending.isEmpty()) {
        return;
      }
      while (puts.size() >= PUTS_IN_FLIGHT) {
        puts.removeFirst().get(COMMIT_WAIT_SECONDS, TimeUnit.SECONDS);
      }
      puts.addLast(raft.submit(new PutChunks(List.copyOf(pending)), data));
      pending.clear();
      data = ByteString.EMPTY;
    }

    /** Waits until every chunk sent ahead is stored; the first failure is thrown. */
    void awaitPuts() throws Exception {
      while (!puts.isEmpty()) {
        puts.removeFirst().get(COMMIT_WAIT_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  @Override
  public void close() {
    running = false;
    queue.add(WAKE);
    try {
      thread.join(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    thread.interrupt();
  }
}
