package dev.grit.consensus.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {
  private static final int MIB = 1024 * 1024;

  @TempDir Path dir;
  private ChunkStore store;

  @BeforeEach
  void open() throws IOException {
    store = ChunkStore.open(dir.resolve("objects"));
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static ChunkStore.Chunk chunk(byte[] data) {
    return new ChunkStore.Chunk(Digest.of(data), ByteBuffer.wrap(data));
  }

  /** Stores {@code data} cut as {@link ChunkingHasher} cuts it; returns its layout. */
  private ObjectLayout put(byte[] data) throws IOException {
    ObjectLayout layout = ObjectLayout.of(data);
    var chunks = new ArrayList<ChunkStore.Chunk>();
    for (int off = 0; off < data.length; off += ChunkingHasher.CHUNK_SIZE) {
      chunks.add(
          chunk(
              Arrays.copyOfRange(
                  data, off, Math.min(data.length, off + ChunkingHasher.CHUNK_SIZE))));
    }
    store.putAll(chunks);
    return layout;
  }

  private static byte[] readAll(InputStream in) throws IOException {
    var out = new ByteArrayOutputStream();
    byte[] buf = new byte[100_000]; // not a divisor of the chunk size: reads straddle chunks
    int n;
    while ((n = in.read(buf, 0, buf.length)) >= 0) {
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  @Test
  void putThenGetAndHas() throws IOException {
    byte[] a = "first chunk".getBytes(StandardCharsets.UTF_8);
    byte[] b = randomBytes(10_000, 1);
    Digest absent = Digest.of("never stored".getBytes(StandardCharsets.UTF_8));

    store.putAll(List.of(chunk(a), chunk(b)));

    assertTrue(store.has(Digest.of(a)));
    assertTrue(store.has(Digest.of(b)));
    assertFalse(store.has(absent));
    assertArrayEquals(a, store.get(Digest.of(a)));
    assertArrayEquals(b, store.get(Digest.of(b)));
    assertEquals(a.length + b.length, store.storedBytes());
  }

  @Test
  void storingTheSameChunkTwiceIsHarmless() throws IOException {
    byte[] a = randomBytes(1000, 2);
    store.putAll(List.of(chunk(a)));
    store.putAll(List.of(chunk(a), chunk(a)));
    assertArrayEquals(a, store.get(Digest.of(a)));
  }

  @Test
  void aChunkIsStoredFromItsBufferPositionWithoutConsumingIt() throws IOException {
    byte[] framed = "headerPAYLOADtrailer".getBytes(StandardCharsets.UTF_8);
    byte[] payload = "PAYLOAD".getBytes(StandardCharsets.UTF_8);
    ByteBuffer slice = ByteBuffer.wrap(framed, 6, payload.length);

    store.putAll(List.of(new ChunkStore.Chunk(Digest.of(payload), slice)));

    assertArrayEquals(payload, store.get(Digest.of(payload)));
    assertEquals(6, slice.position(), "the caller's buffer is left as it was");
  }

  @Test
  void aMultiChunkObjectStreamsBackVerified() throws IOException {
    byte[] data = randomBytes(9 * MIB, 3);
    ObjectLayout layout = put(data);
    assertEquals(3, layout.chunks().size());
    assertTrue(store.hasAll(layout));

    try (InputStream in = store.open(layout)) {
      assertArrayEquals(data, readAll(in));
      assertEquals(-1, in.read(), "stays at the end");
    }
  }

  @Test
  void singleByteReadsSeeTheSameBytes() throws IOException {
    byte[] data = randomBytes(5000, 4);
    ObjectLayout layout = put(data);
    try (InputStream in = store.open(layout)) {
      for (int i = 0; i < data.length; i++) {
        assertEquals(data[i] & 0xff, in.read(), "byte " + i);
      }
      assertEquals(-1, in.read());
    }
  }

  @Test
  void anEmptyObjectHasNoChunksAndReadsAsEmpty() throws IOException {
    ObjectLayout empty = ObjectLayout.of(new byte[0]);
    assertTrue(store.hasAll(empty));
    try (InputStream in = store.open(empty)) {
      assertEquals(-1, in.read());
    }
  }

  @Test
  void aLayoutWhoseDigestDoesNotMatchFailsAtTheEnd() throws IOException {
    byte[] data = randomBytes(5 * MIB, 5);
    ObjectLayout real = put(data);
    ObjectLayout wrongDigest =
        new ObjectLayout(
            Digest.of("something else".getBytes(StandardCharsets.UTF_8)),
            real.size(),
            real.chunks());
    ObjectLayout wrongSize = new ObjectLayout(real.digest(), real.size() + 1, real.chunks());

    for (ObjectLayout bad : List.of(wrongDigest, wrongSize)) {
      try (InputStream in = store.open(bad)) {
        var out = new ByteArrayOutputStream();
        byte[] buf = new byte[64 * 1024];
        IOException e =
            assertThrows(
                IOException.class,
                () -> {
                  int n;
                  while ((n = in.read(buf, 0, buf.length)) >= 0) {
                    out.write(buf, 0, n);
                  }
                });
        assertEquals(data.length, out.size(), "every byte was delivered before the check failed");
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
      }
    }
  }

  @Test
  void aMissingChunkIsAMissingChunkException() throws IOException {
    byte[] data = randomBytes(9 * MIB, 6);
    ObjectLayout layout = ObjectLayout.of(data);
    // Only the first chunk is stored.
    store.putAll(List.of(chunk(Arrays.copyOf(data, ChunkingHasher.CHUNK_SIZE))));
    assertFalse(store.hasAll(layout));

    assertThrows(ChunkStore.MissingChunkException.class, () -> store.get(layout.chunks().get(1)));
    try (InputStream in = store.open(layout)) {
      assertThrows(ChunkStore.MissingChunkException.class, () -> readAll(in));
    }
  }

  @Test
  void aChunkWhoseBytesDoNotHashToItsNameIsReportedCorrupt() throws IOException {
    byte[] claimed = "the bytes named".getBytes(StandardCharsets.UTF_8);
    byte[] actual = "other bytes".getBytes(StandardCharsets.UTF_8);
    store.putAll(List.of(new ChunkStore.Chunk(Digest.of(claimed), ByteBuffer.wrap(actual))));

    IOException e = assertThrows(IOException.class, () -> store.get(Digest.of(claimed)));
    assertFalse(e instanceof ChunkStore.MissingChunkException);
    assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
  }

  @Test
  void dataWrittenBeforeIsSeenAfterReopeningAndReadOnly() throws IOException {
    byte[] data = randomBytes(6 * MIB, 7);
    ObjectLayout layout = put(data);
    store.close();
    store = null;

    try (ChunkStore readOnly = ChunkStore.openReadOnly(dir.resolve("objects"))) {
      assertTrue(readOnly.hasAll(layout));
      try (InputStream in = readOnly.open(layout)) {
        assertArrayEquals(data, readAll(in));
      }
    }
    store = ChunkStore.open(dir.resolve("objects"));
    assertTrue(store.hasAll(layout));
    assertEquals(0, store.storedBytes(), "counts only what this opening stored");
  }

  @Test
  void aReadOnlyStoreOpensBesideAWritingOne() throws IOException {
    byte[] data = randomBytes(1000, 8);
    store.putAll(List.of(chunk(data)));

    try (ChunkStore readOnly = ChunkStore.openReadOnly(dir.resolve("objects"))) {
      assertArrayEquals(data, readOnly.get(Digest.of(data)));
    }
  }

  @Test
  void openingReadOnlyWhereNoStoreExistsFails() {
    assertThrows(IOException.class, () -> ChunkStore.openReadOnly(dir.resolve("nothing-here")));
  }

  @Test
  void largeChunksAreFilesOfTheirOwnAndSmallOnesStayInRocksDb() throws IOException {
    byte[] big = randomBytes(ChunkStore.SMALL_CHUNK + 1, 21);
    byte[] small = randomBytes(ChunkStore.SMALL_CHUNK, 22);
    store.putAll(List.of(chunk(big), chunk(small)));
    store.putAll(List.of(chunk(big))); // again: nothing changes

    String bigHex = Digest.of(big).toString();
    Path file = dir.resolve("objects/large").resolve(bigHex.substring(0, 2)).resolve(bigHex);
    assertArrayEquals(big, java.nio.file.Files.readAllBytes(file));
    String smallHex = Digest.of(small).toString();
    assertFalse(java.nio.file.Files.exists(file.resolveSibling(smallHex)));
    assertEquals(big.length + small.length, store.storedBytes());

    store.close();
    store = ChunkStore.open(dir.resolve("objects"));
    assertArrayEquals(big, store.get(Digest.of(big)));
    assertArrayEquals(small, store.get(Digest.of(small)));
  }

  @Test
  void aLargeChunkCutIntoSeveralBuffersIsStoredWhole() throws IOException {
    byte[] big = randomBytes(3 * ChunkStore.SMALL_CHUNK, 23);
    var parts =
        List.of(
            ByteBuffer.wrap(big, 0, 1000).slice(),
            ByteBuffer.wrap(big, 1000, big.length - 1000).slice());
    var c = new ChunkStore.Chunk(Digest.of(big), parts);
    assertTrue(c.verify());
    assertEquals(big.length, c.length());
    store.putAll(List.of(c));
    assertArrayEquals(big, store.get(Digest.of(big)));
  }

  @Test
  void deletedChunksAreGoneAndTheirFilesFreed() throws IOException {
    byte[] big = randomBytes(ChunkStore.SMALL_CHUNK * 2, 24);
    byte[] small = randomBytes(100, 25);
    byte[] kept = randomBytes(100, 26);
    store.putAll(List.of(chunk(big), chunk(small), chunk(kept)));

    long freed = store.deleteAll(List.of(Digest.of(big), Digest.of(small), Digest.of(randomBytes(5, 27))));

    assertEquals(big.length, freed);
    assertFalse(store.has(Digest.of(big)));
    assertFalse(store.has(Digest.of(small)));
    assertTrue(store.has(Digest.of(kept)));
    assertThrows(ChunkStore.MissingChunkException.class, () -> store.get(Digest.of(big)));
  }

  @Test
  void theSpaceOfDeletedSmallChunksComesBack() throws IOException {
    var digests = new java.util.ArrayList<Digest>();
    var chunks = new java.util.ArrayList<ChunkStore.Chunk>();
    for (int i = 0; i < 640; i++) { // 40 MiB in RocksDB: its log, then its blob files
      byte[] b = randomBytes(ChunkStore.SMALL_CHUNK, 1_000 + i);
      chunks.add(chunk(b));
      digests.add(Digest.of(b));
    }
    store.putAll(chunks);
    long stored = sizeOf(dir.resolve("objects"));
    assertTrue(stored > 40L << 20, "stored " + stored);

    store.deleteAll(digests);

    long left = sizeOf(dir.resolve("objects"));
    assertTrue(left < 4L << 20, "still on disk after the delete: " + left + " bytes");
  }

  /** Skips what RocksDB's background work deletes while the tree is walked. */
  private static long sizeOf(Path dir) throws IOException {
    long[] total = {0};
    java.nio.file.Files.walkFileTree(
        dir,
        new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult visitFile(
              Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
            total[0] += attrs.isRegularFile() ? attrs.size() : 0;
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e)
              throws IOException {
            if (e instanceof java.nio.file.NoSuchFileException) {
              return java.nio.file.FileVisitResult.CONTINUE;
            }
            throw e;
          }
        });
    return total[0];
  }

  @Test
  void aChunkFileWhoseWriteWasCutShortIsRemovedOnOpen() throws IOException {
    Path shard = dir.resolve("objects/large/ab");
    java.nio.file.Files.createDirectories(shard);
    Path partial = shard.resolve("ab" + "0".repeat(62) + ".7.tmp");
    java.nio.file.Files.write(partial, new byte[10]);
    store.close();
    store = ChunkStore.open(dir.resolve("objects"));
    assertFalse(java.nio.file.Files.exists(partial));
  }
}
