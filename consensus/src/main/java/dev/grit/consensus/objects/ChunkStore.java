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
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Chunks of object bytes in RocksDB, keyed by their SHA-256. Writes are synced before they
 * return: a committed record may point at a chunk only once its bytes are durable. Reads verify
 * every chunk against its digest. Thread-safe.
 */
public final class ChunkStore implements AutoCloseable {
  static {
    dev.grit.consensus.natives.NativeLibraries.loadRocksDb();
  }

  private final RocksDB db;
  private final FileStore disk;
  private final WriteOptions syncWrites = new WriteOptions().setSync(true);
  private final AtomicLong storedBytes = new AtomicLong();

  private ChunkStore(RocksDB db, FileStore disk) {
    this.db = db;
    this.disk = disk;
  }

  public static ChunkStore open(Path dir) throws IOException {
    Files.createDirectories(dir);
    // Chunks are large (up to 4 MiB) and never change: kept in blob files beside the LSM tree,
    // they are written once instead of being rewritten by every compaction.
    try (var options =
        new Options()
            .setCreateIfMissing(true)
            .setEnableBlobFiles(true)
            .setMinBlobSize(4096)
            .setBlobFileSize(256L << 20)
            .setWriteBufferSize(64L << 20)) {
      return new ChunkStore(RocksDB.open(options, dir.toString()), Files.getFileStore(dir));
    } catch (RocksDBException e) {
      throw new IOException("cannot open the object store " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Opens a store another process may be writing, to read only. */
  public static ChunkStore openReadOnly(Path dir) throws IOException {
    try (var options = new Options()) {
      return new ChunkStore(RocksDB.openReadOnly(options, dir.toString()), Files.getFileStore(dir));
    } catch (RocksDBException e) {
      throw new IOException("cannot open the object store " + dir + ": " + e.getMessage(), e);
    }
  }

  public boolean has(Digest digest) {
    return db.keyExists(digest.toBytes());
  }

  /** A chunk and its bytes; {@code data} must hash to {@code digest}. */
  public record Chunk(Digest digest, ByteBuffer data) {}

  /** Stores chunks atomically and durably. The caller has checked their digests. */
  public void putAll(List<Chunk> chunks) throws IOException {
    try (var batch = new WriteBatch()) {
      long bytes = 0;
      for (Chunk c : chunks) {
        ByteBuffer data = c.data().duplicate();
        byte[] value = new byte[data.remaining()];
        data.get(value);
        batch.put(c.digest().toBytes(), value);
        bytes += value.length;
      }
      db.write(syncWrites, batch);
      storedBytes.addAndGet(bytes);
    } catch (RocksDBException e) {
      throw new IOException("storing " + chunks.size() + " chunks failed: " + e.getMessage(), e);
    }
  }

  /**
   * Fails unless {@code bytes} more chunk bytes fit on the store's disk with its {@link
   * DiskReserve} to spare. They are counted twice: RocksDB writes a value to its log and again
   * to a blob file before the log is dropped.
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

  /** The chunk's bytes, verified; an {@link IOException} if absent or corrupt. */
  public byte[] get(Digest digest) throws IOException {
    byte[] value;
    try {
      value = db.get(digest.toBytes());
    } catch (RocksDBException e) {
      throw new IOException("reading chunk " + digest + " failed: " + e.getMessage(), e);
    }
    if (value == null) {
      throw new MissingChunkException(digest);
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
