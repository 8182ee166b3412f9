package dev.grit.node.work;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.execute.ChunkListener;
import dev.grit.engine.execute.OutputFile;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores the whole chunks of outputs while their scripts are still writing them, one {@link
 * PutChunks} entry per chunk, so that by the time a script ends most of a large output is stored
 * on every member and its report has little left to send: writing and storing overlap instead of
 * running one after the other.
 *
 * <p>Best effort, and never in an attempt's way: a chunk that finds the queue full, the disk within
 * {@link #HEADROOM} of its reserve, or its bytes changed (the leader checks every chunk against its
 * name) is not stored early; the {@link Reporter} sends whatever the record lacks when the attempt
 * ends. A chunk stored early that no output names in the end (the script rewrote the file, or
 * failed) is a loose chunk, which retention collects. Memory stays bounded: a chunk's bytes are
 * read from its staging file when its entry is proposed, at most {@link #IN_FLIGHT} at once.
 */
final class EarlyChunks implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EarlyChunks.class);
  static final int IN_FLIGHT = Reporter.PUTS_IN_FLIGHT;
  /** Chunks that may wait for their turn; beyond, the reporter sends them. */
  private static final int QUEUED = 16;
  /**
   * Free space above the disk's reserve below which nothing is stored early: the chunks of an
   * attempt that fails stay (loose) until retention collects them, so on a nearly full disk they
   * would keep the room the next attempts and the record need.
   */
  static final long HEADROOM = 1L << 30;

  private final RaftNode raft;
  private final ChunkStore chunks;
  private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
  private final ThreadPoolExecutor reader =
      new ThreadPoolExecutor(
          1,
          1,
          0,
          TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(QUEUED),
          r -> {
            Thread t = new Thread(r, "grit-early-chunks");
            t.setDaemon(true);
            return t;
          });

  EarlyChunks(RaftNode raft, ChunkStore chunks) {
    this.raft = raft;
    this.chunks = chunks;
  }

  /** The listener of one attempt's outputs. */
  Attempt attempt() {
    return new Attempt();
  }

  /** The chunks of one attempt handed over, so its end can wait until they are stored. */
  final class Attempt implements ChunkListener {
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
    private final Set<Digest> stored = ConcurrentHashMap.newKeySet();
    private volatile boolean open = true;
    private volatile boolean abandoned;

    @Override
    public void chunkWritten(Path staging, long offset, Digest digest) {
      if (!open || chunks.has(digest)) {
        return;
      }
      var done = new CompletableFuture<Void>();
      pending.add(done);
      done.whenComplete((ok, failed) -> pending.remove(done));
      try {
        reader.execute(() -> store(this, staging, offset, digest, done));
      } catch (RejectedExecutionException full) {
        done.complete(null);
      }
    }

    /** The chunks whose entries are committed; this member may not have applied them yet. */
    Set<Digest> stored() {
      return Set.copyOf(stored);
    }

    /**
     * Takes no more chunks and waits until those handed over are committed or given up, at most
     * {@code seconds}, so its report need not send them.
     */
    void finish(long seconds) {
      open = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      try {
        for (CompletableFuture<Void> f : List.copyOf(pending)) {
          f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
      } catch (ExecutionException | TimeoutException e) {
        // The reporter sends what is not stored.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /**
     * Takes no more chunks, drops those still queued and waits for none: for an attempt whose
     * outputs will not be stored, whose staging files must go at once (they may be what fills the
     * disk the record waits on).
     */
    void abandon() {
      open = false;
      abandoned = true;
    }
  }

  private void store(
      Attempt attempt, Path staging, long offset, Digest digest, CompletableFuture<Void> done) {
    try {
      if (attempt.abandoned || chunks.has(digest) || chunks.roomAboveReserve() < HEADROOM) {
        done.complete(null);
        return;
      }
      inFlight.acquire();
      CompletableFuture<?> put;
      try {
        byte[] bytes = OutputFile.readStaged(staging, offset, ChunkingHasher.CHUNK_SIZE);
        put =
            raft.submit(
                new PutChunks(List.of(new PutChunks.Chunk(digest, bytes.length))),
                UnsafeByteOperations.unsafeWrap(bytes));
      } catch (IOException | RuntimeException e) {
        inFlight.release();
        throw e;
      }
      put.whenComplete(
          (reply, failed) -> {
            inFlight.release();
            if (failed == null) {
              attempt.stored.add(digest);
            } else {
              LOG.debug("chunk {} was not stored early: {}", digest, failed.toString());
            }
            done.complete(null);
          });
    } catch (IOException | RuntimeException e) {
      LOG.debug("chunk {} was not stored early: {}", digest, e.toString());
      done.complete(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.complete(null);
    }
  }

  @Override
  public void close() {
    reader.shutdownNow();
  }
}
