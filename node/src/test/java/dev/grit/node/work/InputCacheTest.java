package dev.grit.node.work;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.engine.object.ObjectLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gather inputs are hard links to one copy per object, kept within a budget. */
class InputCacheTest {
  @TempDir Path dir;
  private ChunkStore chunks;

  @BeforeEach
  void open() throws Exception {
    chunks = ChunkStore.open(dir.resolve("objects"));
  }

  @AfterEach
  void close() {
    chunks.close();
  }

  private ObjectLayout store(String content) throws Exception {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    ObjectLayout layout = ObjectLayout.of(bytes);
    chunks.putAll(List.of(new ChunkStore.Chunk(layout.digest(), ByteBuffer.wrap(bytes))));
    return layout;
  }

  private static Object inode(Path p) throws Exception {
    return Files.getAttribute(p, "unix:ino");
  }

  @Test
  void everyPlacementOfAnObjectIsALinkToOneReadOnlyCopy() throws Exception {
    var cache = new InputCache(dir.resolve("cache"), chunks, 0);
    ObjectLayout a = store("alpha\n");
    Files.createDirectories(dir.resolve("in1"));
    Files.createDirectories(dir.resolve("in2"));
    cache.place(a, dir.resolve("in1/a"));
    cache.place(a, dir.resolve("in2/a"));
    assertEquals("alpha\n", Files.readString(dir.resolve("in2/a")));
    assertEquals(inode(dir.resolve("in1/a")), inode(dir.resolve("in2/a")), "one copy, linked twice");
    assertEquals(3, Files.getAttribute(dir.resolve("in1/a"), "unix:nlink"));
    assertEquals("r--r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("in1/a"))));

    // Still linked: a budget of 0 keeps it. Unlinked: it goes.
    cache.trim();
    assertEquals(List.of(a.digest()), cache.held());
    Files.delete(dir.resolve("in1/a"));
    Files.delete(dir.resolve("in2/a"));
    cache.trim();
    assertEquals(List.of(), cache.held());
    assertFalse(Files.exists(dir.resolve("cache").resolve(a.digest().toString())));
  }

  @Test
  void unlinkedCopiesStayWithinTheBudgetLeastRecentlyUsedFirst() throws Exception {
    var cache = new InputCache(dir.resolve("cache"), chunks, 10);
    ObjectLayout a = store("aaaaaa");
    ObjectLayout b = store("bbbbbb");
    ObjectLayout c = store("cccccc");
    for (ObjectLayout l : List.of(a, b, c)) {
      Path target = dir.resolve("t-" + l.digest());
      cache.place(l, target);
      Files.delete(target);
    }
    cache.place(a, dir.resolve("again")); // a is the most recently used now, and linked
    Files.delete(dir.resolve("again"));
    cache.trim();
    assertEquals(List.of(a.digest()), cache.held(), "b and c went, oldest first, to fit 10 bytes");
    assertTrue(cache.bytes() <= 10);
  }

  @Test
  void aCopyAScriptChangedIsMadeAnew() throws Exception {
    var cache = new InputCache(dir.resolve("cache"), chunks, 1 << 20);
    ObjectLayout a = store("original\n");
    Path first = dir.resolve("first");
    cache.place(a, first);
    // A script (as root or the owner) makes its input writable and changes it.
    first.toFile().setWritable(true);
    Files.writeString(first, "changed!!\n");
    Path second = dir.resolve("second");
    cache.place(a, second);
    assertEquals("original\n", Files.readString(second));
  }

  @Test
  void whatAnEarlierProcessLeftIsRemoved() throws Exception {
    Path cacheDir = dir.resolve("cache");
    Files.createDirectories(cacheDir);
    Files.writeString(cacheDir.resolve("stale"), "x");
    new InputCache(cacheDir, chunks, 0);
    try (var left = Files.list(cacheDir)) {
      assertEquals(0, left.count());
    }
  }
}
