package dev.grit.consensus.objects;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a large chunk's bytes to a new file and syncs it, past the kernel's page cache
 * ({@code O_DIRECT}) where the file system allows. A chunk file is written once, synced at once
 * and read seldom (a replica's copy, an export, a later task's input); a buffered write would
 * first copy every byte into the page cache, which measured as the chunk writer's largest cost
 * (about as much CPU as hashing the bytes), only to write the same pages out at the sync. A direct
 * write goes from one reused, aligned buffer straight to the disk. Its length must be a multiple of
 * the file system's block size: the last block is padded with zeros and the file then truncated
 * to the chunk's length. A file system that refuses {@code O_DIRECT} (or its alignment) gets
 * buffered writes from the first refusal on.
 */
final class ChunkFileWriter {
  private static final Logger log = LoggerFactory.getLogger(ChunkFileWriter.class);

  private final int block;
  private boolean direct;
  private ByteBuffer aligned = ByteBuffer.allocateDirect(0);

  /** Writes past the page cache, aligned to the disk's block size, when it reports one. */
  ChunkFileWriter(FileStore disk) {
    this(blockSize(disk));
  }

  /** Writes aligned to {@code block} bytes past the page cache, or buffered when it is 0. */
  ChunkFileWriter(int block) {
    this.block = block;
    this.direct = block > 0;
  }

  private static int blockSize(FileStore disk) {
    try {
      long size = disk.getBlockSize();
      return size > 0 && size <= 1 << 16 && Long.bitCount(size) == 1 ? (int) size : 0;
    } catch (IOException | UnsupportedOperationException e) {
      return 0;
    }
  }

  /** True while writes go past the page cache. */
  boolean isDirect() {
    return direct;
  }

  /**
   * Writes {@code parts} (left unchanged) to the new file {@code path} and syncs it; a failed
   * write leaves no file behind, and an existing file is left alone
   * ({@link java.nio.file.FileAlreadyExistsException}).
   */
  synchronized void write(Path path, List<ByteBuffer> parts, int length) throws IOException {
    if (direct) {
      try {
        writeDirect(path, parts, length);
        return;
      } catch (FileAlreadyExistsException e) {
        throw e;
      } catch (UnsupportedOperationException | IOException e) {
        // Most likely EINVAL: this file system takes no direct writes (or not at this alignment).
        // A buffered write settles it: if that fails too, its error is the one that counts.
        writeBuffered(path, parts, length);
        log.info("chunk files are written through the page cache here: {}", e.toString());
        direct = false;
        return;
      }
    }
    writeBuffered(path, parts, length);
  }

  private static void writeBuffered(Path path, List<ByteBuffer> parts, int length)
      throws IOException {
    var out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try (out) {
      ByteBuffer[] bufs = duplicates(parts);
      long left = length;
      while (left > 0) {
        left -= out.write(bufs);
      }
      out.force(false);
    } catch (IOException e) {
      Files.deleteIfExists(path);
      throw e;
    }
  }

  private void writeDirect(Path path, List<ByteBuffer> parts, int length) throws IOException {
    int padded = (length + block - 1) / block * block;
    if (aligned.capacity() < padded) {
      aligned = ByteBuffer.allocateDirect(padded + block).alignedSlice(block);
    }
    ByteBuffer buf = aligned.clear();
    for (ByteBuffer part : parts) {
      buf.put(part.duplicate());
    }
    while (buf.position() < padded) {
      buf.put((byte) 0);
    }
    buf.flip();
    var out =
        FileChannel.open(
            path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    try (out) {
      while (buf.hasRemaining()) {
        out.write(buf, buf.position());
      }
      if (padded != length) {
        out.truncate(length);
      }
      out.force(false);
    } catch (IOException e) {
      Files.deleteIfExists(path);
      throw e;
    }
  }

  private static ByteBuffer[] duplicates(List<ByteBuffer> parts) {
    ByteBuffer[] bufs = new ByteBuffer[parts.size()];
    for (int i = 0; i < bufs.length; i++) {
      bufs[i] = parts.get(i).duplicate();
    }
    return bufs;
  }
}
