package dev.grit.consensus.state;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Makes a file durable: its bytes, and its name in its directory. A snapshot the Raft log is
 * purged behind must survive a power loss, and a rename is only on disk once the directory is
 * synced too.
 */
public final class DurableFiles {
  /** Forces one file or directory to the disk. */
  @FunctionalInterface
  public interface Sync {
    void force(Path path) throws IOException;
  }

  /** fsync(2) through a channel opened for reading, which Linux allows on a directory too. */
  public static final Sync FSYNC =
      path -> {
        try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
          c.force(true);
        }
      };

  public static final DurableFiles SYSTEM = new DurableFiles(FSYNC);

  private final Sync sync;

  public DurableFiles(Sync sync) {
    this.sync = sync;
  }

  /** Forces {@code file}'s bytes and then its directory entry. */
  public void force(Path file) throws IOException {
    sync.force(file);
    sync.force(directoryOf(file));
  }

  /**
   * Renames {@code tmp} over {@code target} atomically, with the bytes forced before the rename
   * (so the new name never points at unwritten data) and the directory after it.
   */
  public void moveInto(Path tmp, Path target) throws IOException {
    sync.force(tmp);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    sync.force(directoryOf(target));
  }

  private static Path directoryOf(Path file) {
    return file.toAbsolutePath().getParent();
  }
}
