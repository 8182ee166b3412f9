package dev.grit.node.work;

import dev.grit.engine.execute.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The read-only local files attempts read their input from ({@code INPUT_FILE}). A file an attempt
 * is done with is written over by a later one instead of being deleted: creating and deleting a
 * file per attempt cost more than copying a small input (on some file systems creating one scans
 * every inode deleted in the last minute). Only small files are kept for that; a large one is
 * deleted, so that its bytes do not keep disk space. Thread-safe.
 */
final class InputFiles {
  /** Files up to this size are kept for later attempts. */
  static final long KEEP_BYTES = 1 << 20;

  private final Path dir;
  private final Queue<Path> idle = new ConcurrentLinkedQueue<>();
  private final AtomicLong names = new AtomicLong();

  /**
   * @param dir the directory they live in, with the directories of links of gather tasks' inputs;
   *     emptied now of what an earlier process left (links would keep the input cache's old
   *     copies on the disk)
   */
  InputFiles(Path dir) throws IOException {
    this.dir = dir;
    FileTrees.delete(dir);
    Files.createDirectories(dir);
  }

  /** Their directory. */
  Path dir() {
    return dir;
  }

  /** A read-only file holding {@code bytes}' content. */
  Path write(InputStream bytes) throws IOException {
    Path file = idle.poll();
    if (file == null) {
      file = dir.resolve(Long.toString(names.incrementAndGet()));
    } else {
      file.toFile().setWritable(true, true);
    }
    try {
      try (var out =
          Files.newOutputStream(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        bytes.transferTo(out);
      }
      if (!file.toFile().setReadOnly()) {
        throw new IOException("cannot make " + file + " read-only");
      }
      return file;
    } catch (IOException | RuntimeException e) {
      // A partial copy (the disk is full) is not kept.
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /** The attempt is done with {@code file}: kept for a later one when small, else deleted. */
  void release(Path file) throws IOException {
    if (Files.size(file) <= KEEP_BYTES) {
      idle.add(file);
    } else {
      Files.delete(file);
    }
  }
}
