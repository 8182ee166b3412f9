package dev.grit.engine.execute;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * A regular file written through FUSE. Its bytes live in a staging file on the real disk, never
 * whole in memory; they are hashed as they stream in, so collecting a file written front to back
 * costs no second read. A write anywhere but at the end, or a truncation to a non-zero length,
 * makes the running hash useless: the layout is then computed from the staging file when asked.
 *
 * <p>Hashing overlaps writing: a write hands a copy of its bytes to a hashing thread and returns
 * to the script once they are in the staging file, so the kernel and the script go on while the
 * last block is hashed. At most {@link #HASHING_BLOCKS} blocks per file wait to be hashed (a
 * script writing faster than one core hashes waits for it); {@link #layout()} waits for them all.
 *
 * <p>Guarded by the lock of the {@link AttemptTree} it belongs to. The staging file is open only
 * while the file is open through FUSE, so an attempt writing thousands of files holds no more
 * descriptors than its script does.
 */
final class StagedFile extends FsNode {
  /** Blocks of one file that may wait to be hashed. */
  static final int HASHING_BLOCKS = 16;

  private static final ExecutorService HASHING =
      Executors.newFixedThreadPool(
          Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
          r -> {
            Thread t = new Thread(r, "grit-hash");
            t.setDaemon(true);
            return t;
          });

  final Path staging;
  private final Semaphore hashing = new Semaphore(HASHING_BLOCKS);
  /** The last block handed to the hashing thread; each block is hashed after the one before. */
  private CompletableFuture<Void> hashed = CompletableFuture.completedFuture(null);
  private FileChannel channel;
  private int openCount;
  private long size;

  /** The running hash of bytes 0..size, or null once it no longer matches the content. */
  private ChunkingHasher hasher = new ChunkingHasher();

  /** The finished layout of the current content, or null when not yet computed. */
  private ObjectLayout layout;

  private boolean linked = true;

  private StagedFile(Path staging, int mode, FileChannel channel) {
    super(mode);
    this.staging = staging;
    this.channel = channel;
    this.openCount = 1;
  }

  /** Creates the empty staging file (or empties an idle one, see StagingFiles), open once. */
  static StagedFile create(Path staging, int mode) throws IOException {
    FileChannel channel =
        FileChannel.open(
            staging,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    return new StagedFile(staging, mode, channel);
  }

  @Override
  int type() {
    return FileStat.S_IFREG;
  }

  @Override
  long size() {
    return size;
  }

  /** True when the file is open and so stays readable and writable through FUSE. */
  boolean isOpen() {
    return openCount > 0;
  }

  void open() throws IOException {
    if (channel == null) {
      channel = FileChannel.open(staging, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }
    openCount++;
  }

  /** One FUSE release; the last one closes the staging file (and deletes it once unlinked). */
  void release() throws IOException {
    if (openCount == 0) {
      return;
    }
    if (--openCount == 0) {
      FileChannel c = channel;
      channel = null;
      c.close();
      if (!linked) {
        Files.deleteIfExists(staging);
      }
    }
  }

  void write(byte[] data, int length, long offset) throws IOException {
    if (length == 0) {
      return;
    }
    ByteBuffer buf = ByteBuffer.wrap(data, 0, length);
    long position = offset;
    layout = null;
    try {
      while (buf.hasRemaining()) {
        position += channel.write(buf, position);
      }
    } catch (IOException e) {
      // Some bytes may have landed: only a fresh read of the staging file can tell what it holds.
      hasher = null;
      size = Math.max(size, position);
      throw e;
    }
    if (hasher != null && offset == size) {
      ChunkingHasher h = hasher;
      byte[] block = Arrays.copyOf(data, length);
      hashing.acquireUninterruptibly();
      // Released however the block ends: a failed block fails the rest of the chain, which
      // then runs nothing, and layout() re-reads the staging file.
      hashed =
          hashed
              .thenRunAsync(() -> h.update(block, 0, length), HASHING)
              .whenComplete((done, failed) -> hashing.release());
    } else {
      hasher = null;
    }
    size = Math.max(size, offset + length);
    touch();
  }

  /** Reads up to {@code length} bytes at {@code offset}; fewer only at the end of the file. */
  int read(byte[] into, int length, long offset) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(into, 0, length);
    long position = offset;
    while (buf.hasRemaining()) {
      int n = channel.read(buf, position);
      if (n < 0) {
        break;
      }
      position += n;
    }
    return buf.position();
  }

  /** Truncates or extends (with zeros) to {@code newSize}. */
  void resize(long newSize) throws IOException {
    if (newSize == size) {
      return;
    }
    boolean temporary = channel == null;
    FileChannel c =
        temporary
            ? FileChannel.open(staging, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : channel;
    layout = null;
    try {
      if (newSize < size) {
        c.truncate(newSize);
      } else {
        c.write(ByteBuffer.allocate(1), newSize - 1);
      }
    } catch (IOException e) {
      hasher = null;
      try {
        size = c.size();
      } catch (IOException unknown) {
        e.addSuppressed(unknown);
      }
      throw e;
    } finally {
      if (temporary) {
        c.close();
      }
    }
    // Emptying a file starts a new stream; any other length breaks the running hash.
    hasher = newSize == 0 ? new ChunkingHasher() : null;
    size = newSize;
    touch();
  }

  /** The layout of the current content: from the running hash when it is intact, else re-read. */
  ObjectLayout layout() throws IOException {
    if (layout == null) {
      if (hasher != null) {
        try {
          hashed.join();
        } catch (CompletionException e) {
          hasher = null;
        }
      }
      layout = hasher != null ? hasher.finish() : ChunkingHasher.layoutOf(staging);
      // A finished hasher cannot take more bytes; a later change re-reads the staging file.
      hasher = null;
    }
    return layout;
  }

  /** True once removed from its directory: its staging file is then deleted, not kept. */
  boolean isUnlinked() {
    return !linked;
  }

  /** Removed from its directory: the staging file goes now, or at the last release. */
  void unlink() throws IOException {
    linked = false;
    if (openCount == 0) {
      Files.deleteIfExists(staging);
    }
  }

  /** Closes the staging file whatever its open count; the attempt is going away. */
  void discard() {
    openCount = 0;
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // Nothing to do: the staging directory is deleted next.
      }
      channel = null;
    }
  }
}
