package dev.grit.consensus.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkFileWriterTest {
  @TempDir Path dir;

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Lengths around the block size: the padded last block must never reach the file. */
  @Test
  void directWritesOfAnyLengthLeaveExactlyTheBytes() throws IOException {
    var writer = new ChunkFileWriter(Files.getFileStore(dir));
    assumeTrue(writer.isDirect(), "this file system reports no block size");
    int block = (int) Files.getFileStore(dir).getBlockSize();
    int[] lengths = {1, block - 1, block, block + 1, 3 * block + 17, 4 * 1024 * 1024};
    for (int length : lengths) {
      byte[] data = randomBytes(length, length);
      Path file = dir.resolve("chunk-" + length);
      writer.write(file, List.of(ByteBuffer.wrap(data)), length);
      assertArrayEquals(data, Files.readAllBytes(file), "length " + length);
    }
    // A larger chunk after a smaller one: the aligned buffer grows.
    byte[] larger = randomBytes(5 * 1024 * 1024 + 3, 7);
    writer.write(dir.resolve("larger"), List.of(ByteBuffer.wrap(larger)), larger.length);
    assertArrayEquals(larger, Files.readAllBytes(dir.resolve("larger")));
  }

  @Test
  void directAndBufferedWritesGiveTheSameFileFromSeveralBuffersLeftUnread() throws IOException {
    byte[] data = randomBytes(1_000_003, 1);
    ByteBuffer first = ByteBuffer.wrap(data, 0, 400_000).slice();
    ByteBuffer second = ByteBuffer.wrap(data, 400_000, data.length - 400_000).slice();
    for (boolean direct : new boolean[] {true, false}) {
      Path file = dir.resolve("direct-" + direct);
      new ChunkFileWriter(direct ? (int) Files.getFileStore(dir).getBlockSize() : 0)
          .write(file, List.of(first, second), data.length);
      assertArrayEquals(data, Files.readAllBytes(file), "direct " + direct);
      assertEquals(0, first.position());
      assertEquals(0, second.position());
    }
  }

  @Test
  void aFileThatExistsIsNotOverwritten() throws IOException {
    Path file = dir.resolve("there");
    Files.write(file, new byte[] {1, 2, 3});
    for (boolean direct : new boolean[] {true, false}) {
      var writer = new ChunkFileWriter(direct ? (int) Files.getFileStore(dir).getBlockSize() : 0);
      boolean wasDirect = writer.isDirect();
      byte[] data = randomBytes(10_000, 2);
      assertThrows(
          FileAlreadyExistsException.class,
          () -> writer.write(file, List.of(ByteBuffer.wrap(data)), data.length));
      assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(file));
      assertEquals(wasDirect, writer.isDirect(), "this error is no reason to stop writing directly");
    }
  }

  /** A refused direct write (here: misaligned, EINVAL) is written buffered, and so are the next. */
  @Test
  void aFileSystemThatRefusesADirectWriteGetsBufferedOnes() throws IOException {
    String type = Files.getFileStore(dir).type();
    assumeTrue(
        List.of("ext4", "xfs", "btrfs").contains(type), "direct-io alignment rules vary: " + type);
    var writer = new ChunkFileWriter(1);
    byte[] data = randomBytes(10_001, 3);
    writer.write(dir.resolve("first"), List.of(ByteBuffer.wrap(data)), data.length);
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("first")));
    assertFalse(writer.isDirect());
    writer.write(dir.resolve("second"), List.of(ByteBuffer.wrap(data)), data.length);
    assertArrayEquals(data, Files.readAllBytes(dir.resolve("second")));
  }
}
