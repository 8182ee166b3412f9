package dev.grit.node.bench;

import dev.grit.engine.object.ChunkingHasher;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * What this machine can do with one file, to put grit's ingest figures beside: hashing it the way
 * grit does (SHA-256 of the whole and of every 4 MiB chunk, one pass) and writing the same number
 * of bytes sequentially with an fsync at the end.
 *
 * <p>Usage: {@code MachineLimits FILE SCRATCH_DIR}; prints {@code hash_mb_s} and {@code
 * write_fsync_mb_s}.
 */
public final class MachineLimits {
  private MachineLimits() {}

  public static void main(String[] args) throws IOException {
    Path file = Path.of(args[0]);
    Path scratch = Path.of(args[1]).resolve("write-test");
    long size = Files.size(file);

    long t0 = System.nanoTime();
    ChunkingHasher.layoutOf(file);
    double hashSeconds = (System.nanoTime() - t0) / 1e9;

    ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
    t0 = System.nanoTime();
    try (var out =
        FileChannel.open(
            scratch, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      for (long written = 0; written < size; ) {
        block.clear();
        block.limit((int) Math.min(block.capacity(), size - written));
        written += out.write(block);
      }
      out.force(true);
    }
    double writeSeconds = (System.nanoTime() - t0) / 1e9;
    Files.delete(scratch);

    double mb = size / 1e6;
    System.out.printf("hash_mb_s %.0f%n", mb / hashSeconds);
    System.out.printf("write_fsync_mb_s %.0f%n", mb / writeSeconds);
  }
}
