package dev.grit.consensus.natives;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native code of RocksDB and SQLite from a cache directory, when the launcher names one
 * (system property {@value #CACHE_PROPERTY}). Both libraries otherwise extract their native
 * library from their jar into the temporary directory on every start, and SQLite's then reads it
 * back to compare: 17 MiB inflated and written for RocksDB alone, a tenth of a second or more of
 * every {@code grit run}. Here each is extracted once, into a directory named by the jar entry's
 * CRC, so a new version of a library gets a new directory. Without the property, or when the cache
 * cannot be used, each library loads as it would by itself.
 */
public final class NativeLibraries {
  /** The cache directory; unset, nothing is cached. */
  public static final String CACHE_PROPERTY = "grit.native.dir";

  private static final Logger LOG = LoggerFactory.getLogger(NativeLibraries.class);

  private static boolean rocksDbLoaded;
  private static boolean sqlitePrepared;
  /** A library was extracted into the temporary directory, to be deleted when the JVM exits. */
  private static volatile boolean extractedForThisProcess;

  private NativeLibraries() {}

  /** Loads RocksDB's library; once per process. */
  public static synchronized void loadRocksDb() {
    if (rocksDbLoaded) {
      return;
    }
    // The jar holds librocksdbjni-linux64.so (on x86-64 Linux); loadLibrary(paths) looks in each
    // path for the name it derives from "rocksdbjni" (librocksdbjnijni-linux64.so in 11.x). The
    // cached copy gets that name: should a later version look for another, it fails to load and
    // the library is extracted as usual.
    Path cached =
        cached(
            org.rocksdb.RocksDB.class,
            "rocksdbjni",
            org.rocksdb.util.Environment.getJniLibraryFileName("rocksdb"),
            org.rocksdb.util.Environment.getJniLibraryFileName("rocksdbjni"));
    if (cached != null) {
      try {
        org.rocksdb.RocksDB.loadLibrary(List.of(cached.getParent().toString()));
        rocksDbLoaded = true;
        return;
      } catch (RuntimeException | UnsatisfiedLinkError e) {
        LOG.debug("RocksDB's cached library {} did not load ({}); extracting it as usual", cached, e.toString());
      }
    }
    extractedForThisProcess = true;
    org.rocksdb.RocksDB.loadLibrary();
    rocksDbLoaded = true;
  }

  /**
   * Whether a library was extracted for this process alone, which the JVM deletes when it exits
   * ({@code File.deleteOnExit}): a process that ends otherwise would leave it behind (17 MiB for
   * RocksDB).
   */
  public static boolean extractedForThisProcess() {
    return extractedForThisProcess;
  }

  /** Points SQLite's driver at its cached library; call before its first connection. */
  public static synchronized void prepareSqlite() {
    if (sqlitePrepared) {
      return;
    }
    sqlitePrepared = true;
    if (System.getProperty("org.sqlite.lib.path") != null) {
      return; // chosen by whoever started the process
    }
    String folder = org.sqlite.util.LibraryLoaderUtil.getNativeLibResourcePath();
    String name = org.sqlite.util.LibraryLoaderUtil.getNativeLibName();
    Path cached = cached(org.sqlite.JDBC.class, "sqlite", folder.substring(1) + "/" + name, name);
    if (cached != null) {
      System.setProperty("org.sqlite.lib.path", cached.getParent().toString());
      System.setProperty("org.sqlite.lib.name", cached.getFileName().toString());
    } else {
      extractedForThisProcess = true;
    }
  }

  /**
   * The library {@code resource} of the jar holding {@code owner}, extracted as {@code fileName}
   * into the cache directory if it is not there yet; null when there is no cache or it cannot be
   * used.
   */
  static Path cached(Class<?> owner, String label, String resource, String fileName) {
    String dir = System.getProperty(CACHE_PROPERTY);
    if (dir == null || dir.isEmpty()) {
      return null;
    }
    try {
      URL url = owner.getClassLoader().getResource(resource);
      if (url == null || !(url.openConnection() instanceof JarURLConnection jar)) {
        return null;
      }
      jar.setUseCaches(true);
      JarEntry entry = jar.getJarEntry();
      if (entry == null || entry.getCrc() < 0 || entry.getSize() < 0) {
        return null;
      }
      // Absolute: a library is loaded by its absolute path only (a relative one fails to load).
      Path target =
          Path.of(dir, label + "-" + Long.toHexString(entry.getCrc()))
              .toAbsolutePath()
              .resolve(fileName);
      if (Files.isRegularFile(target) && Files.size(target) == entry.getSize()) {
        return target;
      }
      Files.createDirectories(target.getParent());
      // Another process may extract the same library now: each writes its own file, and the
      // rename puts a whole one in place.
      Path tmp = Files.createTempFile(target.getParent(), fileName, ".tmp");
      try (InputStream in = url.openStream()) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
      return target;
    } catch (IOException | RuntimeException e) {
      LOG.debug("native library cache {} not usable: {}", dir, e.toString());
      return null;
    }
  }
}
