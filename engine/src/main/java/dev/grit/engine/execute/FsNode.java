package dev.grit.engine.execute;

import java.util.TreeMap;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * A directory or regular file inside one attempt's FUSE directory. Guarded by the lock of the
 * {@link AttemptTree} it belongs to.
 */
abstract class FsNode {
  /** Permission bits only; the file type comes from the class. */
  int mode;

  long mtimeNanos;
  long ctimeNanos;

  FsNode(int mode) {
    this.mode = mode & 07777;
    touch();
  }

  /** Marks a change of content (and therefore of status). */
  final void touch() {
    mtimeNanos = ctimeNanos = now();
  }

  static long now() {
    return System.currentTimeMillis() * 1_000_000L;
  }

  abstract int type();

  abstract long size();

  final void fill(FileStat stat, int uid, int gid) {
    stat.st_mode.set(type() | mode);
    stat.st_nlink.set(type() == FileStat.S_IFDIR ? 2 : 1);
    stat.st_uid.set(uid);
    stat.st_gid.set(gid);
    stat.st_size.set(size());
    stat.st_blksize.set(OutputFs.MAX_WRITE);
    stat.st_blocks.set((size() + 511) / 512);
    setTime(stat.st_mtim, mtimeNanos);
    setTime(stat.st_atim, mtimeNanos);
    setTime(stat.st_ctim, ctimeNanos);
  }

  private static void setTime(ru.serce.jnrfuse.struct.Timespec time, long nanos) {
    time.tv_sec.set(Math.floorDiv(nanos, 1_000_000_000L));
    time.tv_nsec.set(Math.floorMod(nanos, 1_000_000_000L));
  }

  /** A directory: its children by name, in name order. */
  static final class Dir extends FsNode {
    final TreeMap<String, FsNode> children = new TreeMap<>();

    Dir(int mode) {
      super(mode);
    }

    @Override
    int type() {
      return FileStat.S_IFDIR;
    }

    @Override
    long size() {
      return 4096;
    }
  }
}
