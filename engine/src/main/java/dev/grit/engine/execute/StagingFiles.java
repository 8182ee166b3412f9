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
 * The names of staging files in one directory shared by every attempt. A closed attempt's staging
 * files are emptied and kept, up to {@link #MAX_IDLE}, for the files of later attempts instead of
 * being deleted: creating and deleting a file per output cost more than writing a small output
 * (on some file systems creating one scans every inode deleted in the last minute). Emptied, they
 * hold no disk space. Thread-safe.
 */
final class StagingFiles {
  private static final Logger log = LoggerFactory.getLogger(StagingFiles.class);

  /** Idle files kept at most; beyond, the files of a closed attempt are deleted. */
  static final int MAX_IDLE = 1024;

  private final Path root;
  private final Queue<Path> idle = new ConcurrentLinkedQueue<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private final AtomicLong names = new AtomicLong();

  StagingFiles(Path root) {
    this.root = root;
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
