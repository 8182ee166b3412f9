package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bytes of a file written through FUSE, held in memory or moved to a staging file. */
class StagedFileTest {
  @TempDir Path tmp;

  @Test
  void aSmallFileIsHeldAndMakesNoStagingFile() throws Exception {
    var files = new StagingFiles(tmp, 1 << 20);
    var file = new StagedFile(files, 0644, ChunkListener.NONE);
    byte[] hello = "hello\n".getBytes();
    file.write(hello, hello.length, 0);
    file.release();
    assertNull(file.staging());
    assertArrayEquals(hello, file.heldBytes());
    assertEquals(ObjectLayout.of(hello), file.layout());
    try (var entries = Files.list(tmp)) {
      assertEquals(0, entries.count(), "no staging file");
    }
    assertTrue(files.held() >= hello.length);
    file.discard();
    file.dispose();
    assertEquals(0, files.held(), "the memory is given back");
  }

  @Test
  void eachWholeChunkWrittenFrontToBackIsToldOfOnceHashed() throws Exception {
    var files = new StagingFiles(tmp, 1 << 20);
    var told = new ConcurrentLinkedQueue<String>();
    var file =
        new StagedFile(
            files, 0644, (staging, offset, digest) -> told.add(offset + " " + digest));
    int chunk = ChunkingHasher.CHUNK_SIZE;
    byte[] bytes = new byte[2 * chunk + chunk / 2];
    new Random(7).nextBytes(bytes);
    // FUSE-sized writes, one of them across the first chunk's end.
    for (int at = 0; at < bytes.length; at += 128 * 1024 + 3) {
      int length = Math.min(128 * 1024 + 3, bytes.length - at);
      file.write(Arrays.copyOfRange(bytes, at, at + length), length, at);
    }
    ObjectLayout layout = file.layout(); // waits for the hashing of every block
    assertEquals(
        List.of(
            "0 " + Digest.of(Arrays.copyOfRange(bytes, 0, chunk)),
            chunk + " " + Digest.of(Arrays.copyOfRange(bytes, chunk, 2 * chunk))),
        List.copyOf(told),
        "the two whole chunks, not the half one");
    assertEquals(ObjectLayout.of(bytes), layout);

    // A write that is not at the end breaks the running hash: nothing more is told.
    told.clear();
    byte[] more = new byte[chunk];
    file.write(more, more.length, 0);
    file.write(more, more.length, bytes.length);
    file.layout();
    assertTrue(told.isEmpty(), told.toString());
    file.release();
    file.discard();
    file.dispose();
  }

  /**
   * Writes at the end and at offsets, truncations and extensions, across the size at which a file
   * moves to a staging file, checked against the same operations on a plain array.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void anyWriteSequenceLeavesTheContentAPlainArrayWouldHave(long seed) throws Exception {
    var files = new StagingFiles(tmp, 1 << 20);
    var file = new StagedFile(files, 0644, ChunkListener.NONE);
    var random = new Random(seed);
    byte[] model = new byte[0];
    for (int op = 0; op < 60; op++) {
      int kind = random.nextInt(10);
      if (kind < 6) {
        // Mostly appends, so that files grow past what memory holds.
        int length = 1 + random.nextInt(random.nextBoolean() ? 200 : 20_000);
        long offset = kind < 4 ? model.length : random.nextInt(model.length + 100);
        byte[] data = new byte[length];
        random.nextBytes(data);
        file.write(data, length, offset);
        model = Arrays.copyOf(model, (int) Math.max(model.length, offset + length));
        System.arraycopy(data, 0, model, (int) offset, length);
      } else if (kind < 8) {
        int size = random.nextInt(model.length + 1);
        file.resize(size);
        model = Arrays.copyOf(model, size);
      } else {
        int size = model.length + random.nextInt(3_000);
        file.resize(size);
        model = Arrays.copyOf(model, size);
      }
      assertEquals(model.length, file.size());
      byte[] read = new byte[model.length + 10];
      assertEquals(model.length, file.read(read, read.length, 0));
      assertArrayEquals(model, Arrays.copyOf(read, model.length), "after operation " + op);
    }
    assertEquals(ObjectLayout.of(model), file.layout());
    byte[] held = file.heldBytes();
    assertArrayEquals(model, held != null ? held : Files.readAllBytes(file.staging()));
    assertEquals(held == null, model.length > StagingFiles.MAX_HELD || file.staging() != null);
    file.release();
    file.discard();
    file.dispose();
    assertEquals(0, files.held());
  }

  @Test
  void aFileThatOutgrowsMemoryKeepsItsRunningHash() throws Exception {
    var files = new StagingFiles(tmp, 1 << 20);
    var file = new StagedFile(files, 0644, ChunkListener.NONE);
    var random = new Random(42);
    byte[] all = new byte[3 * StagingFiles.MAX_HELD];
    random.nextBytes(all);
    for (int at = 0; at < all.length; at += 1000) {
      int length = Math.min(1000, all.length - at);
      file.write(Arrays.copyOfRange(all, at, at + length), length, at);
    }
    assertNotNull(file.staging());
    assertNull(file.heldBytes());
    assertEquals(0, files.held(), "a file in a staging file holds no memory");
    assertEquals(ObjectLayout.of(all), file.layout());
    assertArrayEquals(all, Files.readAllBytes(file.staging()));
  }

  @Test
  void aFileGoesToAStagingFileWhenTheMemoryBudgetIsSpent() throws Exception {
    var files = new StagingFiles(tmp, 10_000);
    var first = new StagedFile(files, 0644, ChunkListener.NONE);
    var second = new StagedFile(files, 0644, ChunkListener.NONE);
    byte[] a = new byte[8_000];
    byte[] b = new byte[4_000];
    Arrays.fill(a, (byte) 'a');
    Arrays.fill(b, (byte) 'b');
    first.write(a, a.length, 0);
    second.write(b, b.length, 0);
    assertNull(first.staging());
    assertNotNull(second.staging(), "no room left in memory");
    assertTrue(files.held() <= 10_000);
    assertEquals(ObjectLayout.of(a), first.layout());
    assertEquals(ObjectLayout.of(b), second.layout());
    assertArrayEquals(b, Files.readAllBytes(second.staging()));
    for (StagedFile f : new StagedFile[] {first, second}) {
      f.release();
      f.discard();
      f.dispose();
    }
    assertEquals(0, files.held());
  }

  @Test
  void anUnlinkedFileGivesBackItsMemoryAtItsLastRelease() throws Exception {
    var files = new StagingFiles(tmp, 1 << 20);
    var file = new StagedFile(files, 0644, ChunkListener.NONE);
    file.write(new byte[100], 100, 0);
    file.unlink();
    assertTrue(files.held() >= 100, "still open: still readable");
    file.release();
    assertFalse(file.isOpen());
    assertEquals(0, files.held());
    file.dispose();
    assertEquals(0, files.held(), "given back once");
  }
}
