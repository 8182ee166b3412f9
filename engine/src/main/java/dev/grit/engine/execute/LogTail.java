package dev.grit.engine.execute;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The last bytes a script wrote to stdout and stderr, read from their pipe as they come and kept
 * in a ring of {@code keep} bytes: the whole output is never stored. A pipe costs an attempt no
 * file: creating and deleting one per attempt was, on a busy disk, the largest cost of a short
 * task (the file system's inode allocation skips every recently deleted inode).
 *
 * <p>While the script runs, {@link #read} gives what came since a byte offset, so its output can
 * be followed; offsets count every byte the script wrote, including those the ring let go.
 */
public final class LogTail {
  private static final ExecutorService PUMPS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "grit-log-tail");
            t.setDaemon(true);
            return t;
          });

  private final InputStream in;
  private final byte[] ring;
  private long total;
  private final CompletableFuture<Void> ended = new CompletableFuture<>();

  private LogTail(InputStream in, int keep) {
    this.in = in;
    this.ring = new byte[keep];
  }

  /** Starts reading {@code in} (until its end) on a thread of its own. */
  static LogTail pump(InputStream in, int keep) {
    LogTail tail = new LogTail(in, keep);
    PUMPS.execute(tail::run);
    return tail;
  }

  private void run() {
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) > 0; ) {
        append(buffer, n);
      }
    } catch (IOException e) {
      // Closed: what was read so far is the tail.
    } finally {
      try {
        in.close();
      } catch (IOException e) {
        // nothing more to read either way
      }
      ended.complete(null);
    }
  }

  private synchronized void append(byte[] bytes, int length) {
    // Of more than the ring holds, only the last bytes can stay.
    int from = Math.max(0, length - ring.length);
    total += from;
    for (int i = from; i < length; ) {
      int at = (int) (total % ring.length);
      int n = Math.min(length - i, ring.length - at);
      System.arraycopy(bytes, i, ring, at, n);
      i += n;
      total += n;
    }
  }

  /**
   * The tail, once the output has ended or {@code maxWaitMillis} have passed: a process that left
   * the script's group may hold the pipe open for ever, and what it writes later is not kept.
   */
  byte[] await(long maxWaitMillis) throws InterruptedException {
    try {
      ended.get(maxWaitMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // Keep what came; the reader ends when the last writer does.
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e);
    }
    return read(0).bytes();
  }

  /**
   * What came since a read that returned {@code next}.
   *
   * @param bytes the bytes from offset {@code max(from, next - keep)} up to {@code next}
   * @param next the offset to read from next: every byte written so far
   * @param skipped whether bytes after {@code from} were dropped because they left the ring
   * @param ended whether the output has ended: nothing will follow
   */
  public record Read(byte[] bytes, long next, boolean skipped, boolean ended) {}

  /** Thread-safe; {@code from} past the end reads nothing. */
  public Read read(long from) {
    boolean done = ended.isDone();
    synchronized (this) {
      long start = Math.max(Math.max(0, from), total - ring.length);
      if (start >= total) {
        return new Read(new byte[0], total, false, done);
      }
      int length = (int) (total - start);
      byte[] out = new byte[length];
      int at = (int) (start % ring.length);
      int first = Math.min(length, ring.length - at);
      System.arraycopy(ring, at, out, 0, first);
      System.arraycopy(ring, 0, out, first, length - first);
      return new Read(out, total, start > from, done);
    }
  }
}
