package dev.grit.engine.object;

import java.io.IOException;
import java.nio.file.FileStore;

/**
 * Free space that attempts' outputs may never take from a node's disk. The record, the Raft log and
 * the object store live on the same disk, and a write of theirs that fails for want of space stops
 * the replica: outputs are refused (ENOSPC to the script, or a failed attempt) before they eat into
 * this reserve. It is 64 MiB, or a twentieth of a smaller disk so that one stays usable; the system
 * property {@value #PROPERTY} sets it in bytes.
 */
public final class DiskReserve {
  public static final String PROPERTY = "grit.disk.reserve.bytes";
  static final long DEFAULT_BYTES = 64L << 20;

  private DiskReserve() {}

  /** The reserve to keep free on {@code disk}. */
  public static long of(FileStore disk) throws IOException {
    Long configured = Long.getLong(PROPERTY);
    return configured != null ? configured : Math.min(DEFAULT_BYTES, disk.getTotalSpace() / 20);
  }
}
