package dev.grit.consensus.objects;

import dev.grit.engine.object.Digest;
import dev.grit.engine.object.DiskReserve;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.nio.channels.FileChannel;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Chunks of object bytes, keyed by their SHA-256. Small chunks (up to {@link #SMALL_CHUNK} bytes:
 * logs, the outputs of small tasks) live in RocksDB, where one synced batch stores thousands of
 * them. A larger chunk is a file of its own under {@code large/}, named by its digest: its bytes
 * are written once and synced, not written to RocksDB's log and then again to a blob file (which
 * measured at a quarter of the disk's speed), and deleting it frees its space at once. Writes are
 * durable before they return: a committed record may point at a chunk only once its bytes are.
 * Reads verify every chunk against its digest. Thread-safe.
 */
public final class ChunkStore implements AutoCloseable {
  static {
    dev.grit.consensus.natives.NativeLibraries.loadRocksDb();
  }

  /** The largest chunk kept in RocksDB; larger ones are files. */
  public static final int SMALL_CHUNK = 64 * 1024;

  private final RocksDB db;
  private final FileStore disk;
  private final Path large;
  private final WriteOptions syncWrites = new WriteOptions().setSync(true);
  private final AtomicLong storedBytes = new AtomicLong();
  private final AtomicLong tmpNames = new AtomicLong();
  private final ChunkFileWriter files;

  private ChunkStore(RocksDB db, FileStore disk, Path large) {
    this.db = db;
    this.disk = disk;
    this.large = large;
    this.files = new ChunkFileWriter(disk);
  }

  public static ChunkStore open(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path large = dir.resolve("large");
    Files.createDirectories(large);
    deleteUnfinished(large);
    // Chunks are large (up to 4 MiB) and never change: kept in blob files beside the LSM tree,
    // they are written once instead of being rewritten by every compaction.
    try (var options =
        new Options()
            .setCreateIfMissing(true)
            .setEnableBlobFiles(true)
            .setMinBlobSize(4096)
            .setBlobFileSize(256L << 20)
            .setWriteBufferSize(64L << 20)) {
      return new ChunkStore(RocksDB.open(options, dir.toString()), Files.getFileStore(dir), large);
    } catch (RocksDBException e) {
      throw new IOException("cannot open the object store " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Chunk files whose write a crash interrupted: never renamed to their digest, so never used. */
  private static void deleteUnfinished(Path large) throws IOException {
    try (var shards = Files.newDirectoryStream(large)) {
      for (Path shard : shards) {
        if (!Files.isDirectory(shard)) {
          continue;
        }
        try (var files = Files.newDirectoryStream(shard, "*.tmp")) {
          for (Path f : files) {
            Files.deleteIfExists(f);
          }
        }
      }
    }
  }

  /** Opens a store another process may be writing, to read only. */
  public static ChunkStore openReadOnly(Path dir) throws IOException {
    try (var options = new Options()) {
      return new ChunkStore(
          RocksDB.openReadOnly(options, dir.toString()), Files.getFileStore(dir), dir.resolve("large"));
    } catch (RocksDBException e) {
      throw new IOException("cannot open the object store " + dir + ": " + e.getMessage(), e);
    }
  }

  public boolean has(Digest digest) {
    return db.keyExists(digest.toBytes()) || Files.exists(fileOf(digest));
  }

  /** Where a large chunk's file is: {@code large/<first two hex digits>/<digest>}. */
  private Path fileOf(Digest digest) {
    String hex = digest.toString();
    return large.resolve(hex.substring(0, 2)).resolve(hex);
  }

  /** A chunk and its bytes, in one or more buffers; they must hash to {@code digest}. */
  public record Chunk(Digest digest, List<ByteBuffer> parts) {
    public Chunk(Digest digest, ByteBuffer data) {
      this(digest, List.of(data));
    }

    public int length() {
      int n = 0;
      for (ByteBuffer b : parts) {
        n += b.remaining();
      }
      return n;
    }

    /** True when the bytes hash to the digest. */
    public boolean verify() {
      MessageDigest sha = Digest.newSha256();
      for (ByteBuffer b : parts) {
        sha.update(b.duplicate());
      }
      return Digest.of(sha).equals(digest);
    }
  }

  /** Stores chunks durably (each whole or not at all). The caller has checked their digests. */
  public void putAll(List<Chunk> chunks) throws IOException {
    var dirs = new java.util.TreeSet<Path>();
    long bytes = 0;
    try (var batch = new WriteBatch()) {
      for (Chunk c : chunks) {
        int length = c.length();
        if (length <= SMALL_CHUNK) {
          byte[] value = new byte[length];
          ByteBuffer into = ByteBuffer.wrap(value);
          for (ByteBuffer b : c.parts()) {
            into.put(b.duplicate());
          }
          batch.put(c.digest().toBytes(), value);
          bytes += length;
        } else if (writeFile(c)) {
          dirs.add(fileOf(c.digest()).getParent());
          bytes += length;
        }
      }
      if (batch.count() > 0) {
        db.write(syncWrites, batch);
      }
    } catch (RocksDBException e) {
      throw new IOException("storing " + chunks.size() + " chunks failed: " + e.getMessage(), e);
    }
    // The renames are durable once their directories are.
    for (Path dir : dirs) {
      try (var d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    }
    storedBytes.addAndGet(bytes);
  }

  /** Writes a large chunk's file, synced, under its final name; false when it was there. */
  private boolean writeFile(Chunk c) throws IOException {
    Path target = fileOf(c.digest());
    if (Files.exists(target)) {
      return false;
    }
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling(target.getFileName() + "." + tmpNames.incrementAndGet() + ".tmp");
    try {
      files.write(tmp, c.parts(), c.length());
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return true;
  }

  /**
   * Deletes chunks (absent ones are skipped) and gives their space back: large chunk files at
   * once, small chunks once RocksDB has compacted the range they were in. Returns the bytes of
   * the files deleted.
   */
  public long deleteAll(java.util.Collection<Digest> digests) throws IOException {
    long freed = 0;
    byte[] lowest = null;
    byte[] highest = null;
    try (var batch = new WriteBatch()) {
      for (Digest d : digests) {
        Path f = fileOf(d);
        long size = Files.exists(f) ? Files.size(f) : -1;
        if (size >= 0 && Files.deleteIfExists(f)) {
          freed += size;
          continue;
        }
        byte[] key = d.toBytes();
        if (db.keyExists(key)) {
          batch.delete(key);
          lowest = lowest == null || Arrays.compareUnsigned(key, lowest) < 0 ? key : lowest;
          highest = highest == null || Arrays.compareUnsigned(key, highest) > 0 ? key : highest;
        }
      }
      if (batch.count() > 0) {
        db.write(syncWrites, batch);
        // Deleted values stay on disk until a compaction drops them (blob files too, once their
        // last live value is gone): compact the range now instead of waiting for more writes.
        db.compactRange(lowest, highest);
      }
    } catch (RocksDBException e) {
      throw new IOException("deleting " + digests.size() + " chunks failed: " + e.getMessage(), e);
    }
    return freed;
  }

  /**
   * Fails unless {@code bytes} more chunk bytes fit on the store's disk with its {@link
   * DiskReserve} to spare. They are counted twice: a small chunk is written to RocksDB's log and
   * again to a blob file; a large one, written once, leaves that much margin for the record.
   *
   * @throws NoRoomException saying how much is needed and how much is free
   */
  public void checkRoom(long bytes) throws IOException {
    long free = disk.getUsableSpace();
    long reserve = DiskReserve.of(disk);
    if (free - 2 * bytes < reserve) {
      throw new NoRoomException(bytes, free, reserve);
    }
  }

  /** Bytes free on the store's disk beyond its {@link DiskReserve}; negative within it. */
  public long roomAboveReserve() throws IOException {
    return disk.getUsableSpace() - DiskReserve.of(disk);
  }

  /** The chunk's bytes, verified; an {@link IOException} if absent or corrupt. */
  public byte[] get(Digest digest) throws IOException {
    byte[] value;
    try {
      value = db.get(digest.toBytes());
    } catch (RocksDBException e) {
      throw new IOException("reading chunk " + digest + " failed: " + e.getMessage(), e);
    }
    if (value == null) {
      try {
        value = Files.readAllBytes(fileOf(digest));
      } catch (java.nio.file.NoSuchFileException e) {
        throw new MissingChunkException(digest);
      }
    }
    if (!Digest.of(value).equals(digest)) {
      throw new IOException("chunk " + digest + " is corrupt: its bytes hash differently");
    }
    return value;
  }

  /** True when every chunk of the object is here. */
  public boolean hasAll(ObjectLayout layout) {
    for (Digest d : layout.chunks()) {
      if (!has(d)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The object's bytes as a stream, chunk by chunk (one chunk in memory at a time). Every chunk
   * is verified as it is read; at the end, the whole object's digest and size too.
   */
  public InputStream open(ObjectLayout layout) {
    return new ObjectInputStream(layout);
  }

  /** Bytes stored by this process since it opened the store. */
  public long storedBytes() {
    return storedBytes.get();
  }

  @Override
  public void close() {
    syncWrites.close();
    db.close();
  }

  /** A chunk the record points at is not here (yet): it must be fetched from a peer. */
  public static final class MissingChunkException extends IOException {
    public MissingChunkException(Digest digest) {
      super("chunk " + digest + " is not in the local object store");
    }
  }

  /** New chunks would leave the store's disk with less than the reserve free. */
  public static final class NoRoomException extends IOException {
    NoRoomException(long bytes, long free, long reserve) {
      super(
          String.format(
              "no space left on the node's disk for %s of new chunks (%s free, %s kept for the"
                  + " record)",
              mib(bytes), mib(free), mib(reserve)));
    }

    private static String mib(long bytes) {
      return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
  }

  private final class ObjectInputStream extends InputStream {
    private final ObjectLayout layout;
    private final MessageDigest whole = Digest.newSha256();
    private int next;
    private byte[] current = new byte[0];
    private int pos;
    private long delivered;
    private boolean verified;

    ObjectInputStream(ObjectLayout layout) {
      this.layout = layout;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (pos == current.length) {
        if (next == layout.chunks().size()) {
          finish();
          return -1;
        }
        current = get(layout.chunks().get(next++));
        whole.update(current);
        pos = 0;
      }
      int n = Math.min(len, current.length - pos);
      System.arraycopy(current, pos, b, off, n);
      pos += n;
      delivered += n;
      return n;
    }

    private void finish() throws IOException {
      if (verified) {
        return;
      }
      if (delivered != layout.size() || !Digest.of(whole).equals(layout.digest())) {
        throw new IOException("object " + layout.digest() + " does not match its chunks");
      }
      verified = true;
    }
  }
}
