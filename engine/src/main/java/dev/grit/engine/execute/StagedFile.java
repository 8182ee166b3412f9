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
 * A regular file written through FUSE. A small file's bytes are held in memory (see {@link
 * StagingFiles}); a larger one's live in a staging file on the real disk, never whole in memory,
 * hashed as they stream in, so collecting a file written front to back costs no second read. A
 * write anywhere but at the end, or a truncation to a non-zero length, makes the running hash
 * useless: the layout is then computed from the staging file when asked. A held file is hashed
 * when its layout is asked for, from memory.
 *
 * <p>Hashing overlaps writing: a write to a staging file hands a copy of its bytes to a hashing
 * thread and returns to the script once they are in the staging file, so the kernel and the
 * script go on while the last block is hashed. At most {@link #HASHING_BLOCKS} blocks per file
 * wait to be hashed (a script writing faster than one core hashes waits for it); {@link #layout()}
 * waits for them all.
 *
 * <p>Guarded by the lock of the {@link AttemptTree} it belongs to. The staging file is open only
 * while the file is open through FUSE, so an attempt writing thousands of files holds no more
 * descriptors than its script does.
 */
final class StagedFile extends FsNode {
  /** Blocks of one file that may wait to be hashed. */
  static final int HASHING_BLOCKS = 16;

  private static final byte[] NOTHING = new byte[0];

  private static final ExecutorService HASHING =
      Executors.newFixedThreadPool(
          Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors())),
          r -> {
            Thread t = new Thread(r, "grit-hash");
            t.setDaemon(true);
            return t;
          });

  private final StagingFiles files;
  private final ChunkListener listener;
  private final Semaphore hashing = new Semaphore(HASHING_BLOCKS);
  /** The last block handed to the hashing thread; each block is hashed after the one before. */
  private CompletableFuture<Void> hashed = CompletableFuture.completedFuture(null);

  /**
   * The bytes while the file is held in memory (its length is what the memory budget lent it;
   * bytes past {@link #size} are zero), or null once they are in {@link #staging}.
   */
  private byte[] memory = NOTHING;

  private Path staging;
  private FileChannel channel;
  private int openCount;
  private long size;

  /** The running hash of bytes 0..size of the staging file, or null when there is none. */
  private ChunkingHasher hasher;

  /** The finished layout of the current content, or null when not yet computed. */
  private ObjectLayout layout;

  private boolean linked = true;

  /**
   * A new, empty file, open once, held in memory until it outgrows what {@code files} lend; {@code
   * listener} hears of each whole chunk its running hash completes.
   */
  StagedFile(StagingFiles files, int mode, ChunkListener listener) {
    super(mode);
    this.files = files;
    this.listener = listener;
    this.openCount = 1;
  }

  @Override
  int type() {
    return FileStat.S_IFREG;
  }

  @Override
  long size() {
    return size;
  }

  /** The staging file, or null while the bytes are held in memory. */
  Path staging() {
    return staging;
  }

  /** The whole content, when it is held in memory (not to be modified); else null. */
  byte[] heldBytes() {
    if (memory == null) {
      return null;
    }
    return memory.length == size ? memory : Arrays.copyOf(memory, (int) size);
  }

  /** True when the file is open and so stays readable and writable through FUSE. */
  boolean isOpen() {
    return openCount > 0;
  }

  void open() throws IOException {
    if (memory == null && channel == null) {
      channel = FileChannel.open(staging, StandardOpenOption.READ, StandardOpenOption.WRITE);
    }
    openCount++;
  }

  /** One FUSE release; the last one closes the staging file (and drops the bytes once unlinked). */
  void release() throws IOException {
    if (openCount == 0) {
      return;
    }
    if (--openCount == 0) {
      FileChannel c = channel;
      channel = null;
      if (c != null) {
        c.close();
      }
      if (!linked) {
        drop();
      }
    }
  }

  void write(byte[] data, int length, long offset) throws IOException {
    if (length == 0) {
      return;
    }
    if (memory != null && !holdUpTo(offset + length)) {
      moveToStaging();
    }
    layout = null;
    if (memory != null) {
      System.arraycopy(data, 0, memory, (int) offset, length);
      size = Math.max(size, offset + length);
      touch();
      return;
    }
    ByteBuffer buf = ByteBuffer.wrap(data, 0, length);
    long position = offset;
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
      Path file = staging;
      byte[] block = Arrays.copyOf(data, length);
      hashing.acquireUninterruptibly();
      // Released however the block ends: a failed block fails the rest of the chain, which
      // then runs nothing, and layout() re-reads the staging file.
      hashed =
          hashed
              .thenRunAsync(() -> hash(h, file, block, length), HASHING)
              .whenComplete((done, failed) -> hashing.release());
    } else {
      hasher = null;
    }
    size = Math.max(size, offset + length);
    touch();
  }

  /** On a hashing thread: hashes a block and tells the listener of the chunks it completed. */
  private void hash(ChunkingHasher h, Path file, byte[] block, int length) {
    int before = h.wholeChunks();
    h.update(block, 0, length);
    for (int i = before; i < h.wholeChunks(); i++) {
      listener.chunkWritten(file, (long) i * ChunkingHasher.CHUNK_SIZE, h.chunk(i));
    }
  }

  /** Reads up to {@code length} bytes at {@code offset}; fewer only at the end of the file. */
  int read(byte[] into, int length, long offset) throws IOException {
    if (memory != null) {
      int n = (int) Math.max(0, Math.min(length, size - offset));
      System.arraycopy(memory, (int) Math.min(offset, size), into, 0, n);
      return n;
    }
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
    layout = null;
    if (memory != null && holdUpTo(newSize)) {
      if (newSize < size) {
        Arrays.fill(memory, (int) newSize, (int) size, (byte) 0);
      }
      size = newSize;
      touch();
      return;
    }
    if (memory != null) {
      moveToStaging();
    }
    boolean temporary = channel == null;
    FileChannel c =
        temporary
            ? FileChannel.open(staging, StandardOpenOption.READ, StandardOpenOption.WRITE)
            : channel;
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

  /**
   * Makes the held bytes room for a file of {@code end} bytes, borrowing from the memory budget;
   * false when the file must move to a staging file instead.
   */
  private boolean holdUpTo(long end) {
    if (end <= memory.length) {
      return true;
    }
    if (end > StagingFiles.MAX_HELD) {
      return false;
    }
    int capacity = (int) Math.max(end, Math.min(StagingFiles.MAX_HELD, 2L * memory.length));
    if (!files.hold(capacity - memory.length)) {
      return false;
    }
    memory = Arrays.copyOf(memory, capacity);
    return true;
  }

  /**
   * Moves the held bytes to a staging file, open while the file is, and hashes them there: later
   * writes at the end go on hashing as they come.
   */
  private void moveToStaging() throws IOException {
    Path path = files.take();
    FileChannel c =
        FileChannel.open(
            path,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    try {
      ByteBuffer buf = ByteBuffer.wrap(memory, 0, (int) size);
      while (buf.hasRemaining()) {
        c.write(buf, buf.position());
      }
    } catch (IOException e) {
      c.close();
      FileTrees.deleteQuietly(path);
      throw e;
    }
    hasher = new ChunkingHasher();
    hasher.update(memory, 0, (int) size);
    files.letGo(memory.length);
    memory = null;
    staging = path;
    if (openCount > 0) {
      channel = c;
    } else {
      c.close();
    }
  }

  /** The layout of the current content: from memory, from the running hash, or re-read. */
  ObjectLayout layout() throws IOException {
    if (layout == null) {
      if (memory != null) {
        ChunkingHasher h = new ChunkingHasher();
        h.update(memory, 0, (int) size);
        layout = h.finish();
        return layout;
      }
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

  /** Removed from its directory: the bytes go now, or at the last release. */
  void unlink() throws IOException {
    linked = false;
    if (openCount == 0) {
      drop();
    }
  }

  private void drop() throws IOException {
    if (memory != null) {
      files.letGo(memory.length);
      memory = NOTHING;
    } else {
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

  /**
   * After {@link #discard()}: gives back what the file held, its memory or its staging file (kept
   * for a later file, or deleted when unlinked).
   */
  void dispose() {
    if (memory != null) {
      files.letGo(memory.length);
      memory = NOTHING;
    } else if (linked) {
      files.give(staging);
    } else {
      FileTrees.deleteQuietly(staging);
    }
  }
}
