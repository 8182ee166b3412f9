package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the files written through one FUSE mount keep their bytes: small files in memory, within
 * {@link #MEMORY_BUDGET} for all attempts together, and the others in staging files of one
 * directory shared by every attempt. Creating and deleting a file per output cost more than
 * writing a small output (on some file systems creating one scans every inode deleted in the last
 * minute): a file starts in memory and moves to a staging file only once it outgrows {@link
 * #MAX_HELD} or the budget, and a closed attempt's staging files are emptied and kept, up to
 * {@link #MAX_IDLE}, for the files of later attempts instead of being deleted. Emptied, they hold
 * no disk space. Thread-safe.
 */
final class StagingFiles {
  private static final Logger log = LoggerFactory.getLogger(StagingFiles.class);

  /** Idle files kept at most; beyond, the files of a closed attempt are deleted. */
  static final int MAX_IDLE = 1024;

  /**
   * The largest file held in memory: half of one FUSE write, so that a file written in big blocks
   * goes to a staging file at its first write; far below a chunk, so a held file is one chunk.
   */
  static final int MAX_HELD = OutputFs.MAX_WRITE / 2;

  /**
   * Bytes held in memory by the files of every attempt of a mount together: 64 MiB, or an eighth
   * of the heap when that is less.
   */
  static final long MEMORY_BUDGET =
      Math.min(64L * 1024 * 1024, Runtime.getRuntime().maxMemory() / 8);

  private final Path root;
  private final Queue<Path> idle = new ConcurrentLinkedQueue<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private final AtomicLong names = new AtomicLong();
  private final long memoryBudget;
  private final AtomicLong held = new AtomicLong();

  /** @param memoryBudget bytes that files may hold in memory, all together */
  StagingFiles(Path root, long memoryBudget) {
    this.root = root;
    this.memoryBudget = memoryBudget;
  }

  /** Takes {@code bytes} of the memory budget; false, taking nothing, when they are not left. */
  boolean hold(long bytes) {
    long now;
    do {
      now = held.get();
      if (now + bytes > memoryBudget) {
        return false;
      }
    } while (!held.compareAndSet(now, now + bytes));
    return true;
  }

  /** Gives back {@code bytes} taken by {@link #hold}. */
  void letGo(long bytes) {
    held.addAndGet(-bytes);
  }

  /** Bytes of the memory budget in use. */
  long held() {
    return held.get();
  }

  /** A name for a new staging file: an idle, empty file, or one that does not exist yet. */
  Path take() {
    Path file = idle.poll();
    if (file != null) {
      idleCount.decrementAndGet();
      return file;
    }
    return root.resolve(Long.toString(names.incrementAndGet()));
  }

  /** The staging file (closed, and of a closed attempt) is no longer used. */
  void give(Path file) {
    if (idleCount.incrementAndGet() <= MAX_IDLE) {
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
        channel.truncate(0);
        idle.add(file);
        return;
      } catch (IOException e) {
        // Gone or unwritable: not kept.
      }
    }
    idleCount.decrementAndGet();
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("could not delete {}: {}", file, e.toString());
    }
  }
}
