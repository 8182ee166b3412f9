package dev.grit.consensus.natives;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
  @TempDir Path cache;

  @AfterEach
  void clear() {
    System.clearProperty(NativeLibraries.CACHE_PROPERTY);
  }

  @Test
  void aLibraryIsExtractedOnceUnderTheCrcOfItsJarEntry() throws Exception {
    System.setProperty(NativeLibraries.CACHE_PROPERTY, cache.toString());
    String folder = org.sqlite.util.LibraryLoaderUtil.getNativeLibResourcePath().substring(1);
    String name = org.sqlite.util.LibraryLoaderUtil.getNativeLibName();
    Path first = NativeLibraries.cached(org.sqlite.JDBC.class, "sqlite", folder + "/" + name, name);
    assertNotNull(first);
    assertEquals(cache, first.getParent().getParent());
    try (var in = org.sqlite.JDBC.class.getClassLoader().getResourceAsStream(folder + "/" + name)) {
      assertArrayEquals(in.readAllBytes(), Files.readAllBytes(first));
    }
    var written = Files.getLastModifiedTime(first);
    Path again = NativeLibraries.cached(org.sqlite.JDBC.class, "sqlite", folder + "/" + name, name);
    assertEquals(first, again);
    assertEquals(written, Files.getLastModifiedTime(again), "not extracted again");
    // A damaged copy (another size) is replaced.
    Files.write(first, new byte[] {1, 2, 3});
    NativeLibraries.cached(org.sqlite.JDBC.class, "sqlite", folder + "/" + name, name);
    try (var in = org.sqlite.JDBC.class.getClassLoader().getResourceAsStream(folder + "/" + name)) {
      assertArrayEquals(in.readAllBytes(), Files.readAllBytes(first));
    }
  }

  @Test
  void aRelativeCacheDirectoryGivesAnAbsolutePath() throws Exception {
    Path relative = Path.of("").toAbsolutePath().relativize(cache);
    System.setProperty(NativeLibraries.CACHE_PROPERTY, relative.toString());
    String folder = org.sqlite.util.LibraryLoaderUtil.getNativeLibResourcePath().substring(1);
    String name = org.sqlite.util.LibraryLoaderUtil.getNativeLibName();
    Path cached = NativeLibraries.cached(org.sqlite.JDBC.class, "sqlite", folder + "/" + name, name);
    assertNotNull(cached);
    assertTrue(cached.isAbsolute(), cached.toString());
    assertTrue(Files.isSameFile(cache, cached.getParent().getParent()));
  }

  @Test
  void withoutACacheOrOutsideAJarNothingIsCached() {
    assertNull(NativeLibraries.cached(org.sqlite.JDBC.class, "sqlite", "org/sqlite/JDBC.class", "x"));
    System.setProperty(NativeLibraries.CACHE_PROPERTY, cache.toString());
    assertNull(
        NativeLibraries.cached(
            NativeLibrariesTest.class, "test", "dev/grit/consensus/natives/none.so", "none.so"));
  }
}
