package dev.grit.node.work;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Read-only copies of objects that gather tasks read, one file per object named by its digest,
 * handed out as hard links: an object is copied out of the chunk store once, and every {@code
 * $INPUT_DIR} that holds it links to the same file, so a gather over many inputs does not copy
 * them for each attempt, and the next gather over a set that changed by one input copies one. Where
 * the file system refuses a link, the input is copied.
 *
 * <p>A script could still change a linked file (as its owner, or as root). A copy is used again
 * only while its size, modification time and permissions are what they were when it was made;
 * otherwise it is made anew (what a script already opened stays its own business).
 *
 * <p>The copies take at most {@link #BUDGET_PROPERTY} bytes (default 512 MiB) beyond those some
 * input directory still links: {@link #trim} removes the least recently used of the others. The
 * directory is emptied when the node starts. Thread-safe.
 */
final class InputCache {
  static final String BUDGET_PROPERTY = "grit.input.cache.bytes";
  private static final long DEFAULT_BUDGET = 512L << 20;
  private static final Logger LOG = LoggerFactory.getLogger(InputCache.class);

  private final Path dir;
  private final ChunkStore chunks;
  private final long budget;
  /** What each copy looked like when it was made, by digest: how a changed one is recognised. */
  private final Map<Digest, Stamp> made = new ConcurrentHashMap<>();
  /** When each copy was last handed out: the order {@link #trim} removes them in. */
  private final Map<Digest, Long> used = new LinkedHashMap<>(16, 0.75f, true);
  /** Linking holds it shared, trimming exclusively: a copy is not removed between its check and its link. */
  private final ReadWriteLock lock = new ReentrantReadWriteLock();
  private final Map<Digest, Object> making = new ConcurrentHashMap<>();
  private long ticks;

  private record Stamp(long size, FileTime modified) {}

  InputCache(Path dir, ChunkStore chunks) {
    this(dir, chunks, Long.getLong(BUDGET_PROPERTY, DEFAULT_BUDGET));
  }

  InputCache(Path dir, ChunkStore chunks, long budget) {
    this.dir = dir;
    this.chunks = chunks;
    this.budget = budget;
    try {
      Files.createDirectories(dir);
      try (DirectoryStream<Path> old = Files.newDirectoryStream(dir)) {
        for (Path p : old) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the input cache " + dir, e);
    }
  }

  /** Places the object's bytes at {@code target}: a hard link to its copy, or a copy of it. */
  void place(ObjectLayout layout, Path target) throws IOException {
    lock.readLock().lock();
    try {
      Path copy = copyOf(layout);
      try {
        Files.createLink(target, copy);
      } catch (FileSystemException | UnsupportedOperationException e) {
        // Another file system, or one without hard links: the bytes once more.
        Files.copy(copy, target);
        target.toFile().setReadOnly();
      }
    } finally {
      lock.readLock().unlock();
    }
  }

  /** The read-only copy of the object, made now unless an unchanged one exists. */
  private Path copyOf(ObjectLayout layout) throws IOException {
    Digest digest = layout.digest();
    Path file = dir.resolve(digest.toString());
    synchronized (making.computeIfAbsent(digest, d -> new Object())) {
      if (!unchanged(digest, file)) {
        Path tmp = dir.resolve(digest + ".tmp");
        Files.deleteIfExists(tmp);
        try (InputStream in = chunks.open(layout)) {
          Files.copy(in, tmp);
        } catch (IOException e) {
          Files.deleteIfExists(tmp);
          throw e;
        }
        tmp.toFile().setReadOnly();
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        made.put(digest, stamp(file));
      }
    }
    synchronized (used) {
      used.put(digest, ++ticks);
    }
    return file;
  }

  private boolean unchanged(Digest digest, Path file) {
    Stamp expected = made.get(digest);
    try {
      return expected != null
          && expected.equals(stamp(file))
          && Files.getPosixFilePermissions(file).stream().noneMatch(p -> p.name().endsWith("WRITE"));
    } catch (IOException e) {
      return false;
    }
  }

  private static Stamp stamp(Path file) throws IOException {
    return new Stamp(Files.size(file), Files.getLastModifiedTime(file));
  }

  /**
   * Removes the least recently used copies that no input directory links any more, until those
   * left unlinked take at most the budget.
   */
  void trim() {
    lock.writeLock().lock();
    try {
      List<Digest> order;
      synchronized (used) {
        order = new ArrayList<>(used.keySet());
      }
      long idle = 0;
      var candidates = new ArrayList<Digest>();
      for (Digest d : order) {
        Path file = dir.resolve(d.toString());
        try {
          if ((Integer) Files.getAttribute(file, "unix:nlink") == 1) {
            idle += Files.size(file);
            candidates.add(d);
          }
        } catch (NoSuchFileException e) {
          forget(d);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
          // a file system without link counts: counted as linked, kept until the node restarts
        }
      }
      for (Digest d : candidates) {
        if (idle <= budget) {
          break;
        }
        Path file = dir.resolve(d.toString());
        try {
          idle -= Files.size(file);
          Files.deleteIfExists(file);
          forget(d);
        } catch (IOException e) {
          LOG.warn("removing the cached input {} failed: {}", file, e.toString());
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  private void forget(Digest d) {
    made.remove(d);
    making.remove(d);
    synchronized (used) {
      used.remove(d);
    }
  }

  /** The digests of the copies held now, least recently used first (for tests). */
  List<Digest> held() {
    synchronized (used) {
      return List.copyOf(used.keySet());
    }
  }

  /** How many bytes the copies take now. */
  long bytes() {
    long n = 0;
    for (Digest d : held()) {
      try {
        n += Files.size(dir.resolve(d.toString()));
      } catch (IOException e) {
        // gone meanwhile
      }
    }
    return n;
  }
}
