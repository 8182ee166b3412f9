package dev.grit.engine.execute;

import dev.grit.engine.object.DiskReserve;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The FUSE callbacks behind {@link FuseOutputDir}. The root lists one directory per attempt and
 * accepts nothing else; below it every call goes to that attempt's {@link AttemptTree}, so the only
 * state shared by concurrent attempts is two concurrent maps.
 *
 * <p>Unimplemented operations are left to libfuse and the kernel: {@code flush} and {@code fsync}
 * answer ENOSYS once and are then skipped (staging files need no durability: an attempt lost in a
 * crash is retried), extended attributes are unsupported, and locks stay local to the kernel.
 */
final class OutputFs extends FuseStubFS {
  /** The largest write the kernel sends (with {@code big_writes}), also the preferred I/O size. */
  static final int MAX_WRITE = 128 * 1024;

  private static final Logger log = LoggerFactory.getLogger(OutputFs.class);
  private static final long UTIME_NOW = (1L << 30) - 1;
  private static final long UTIME_OMIT = (1L << 30) - 2;
  private static final int O_ACCMODE = 3;
  private static final int O_WRONLY = 1;
  private static final int DIRECT_IO_WORD = 20;

  private final ConcurrentHashMap<String, AttemptTree> attempts = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<Long, Handle> handles = new ConcurrentHashMap<>();
  private final AtomicLong nextHandle = new AtomicLong(1);

  /**
   * Buffers for reads and writes, reused. Not thread-local: libfuse's threads are attached to the
   * JVM anew for each of their first callbacks, so a thread-local would allocate every time.
   */
  private final ConcurrentLinkedQueue<byte[]> buffers = new ConcurrentLinkedQueue<>();

  private final FileStore store;
  private final long reserve;
  private final int uid;
  private final int gid;
  private final FsNode.Dir root = new FsNode.Dir(0755);

  private record Handle(AttemptTree tree, StagedFile file) {}

  private record Where(AttemptTree tree, String rel) {}

  /**
   * @param stagingRoot where staging files live: its file system answers {@code statfs}
   * @throws UnsatisfiedLinkError (or another {@link Error}) when libfuse cannot be loaded
   */
  OutputFs(Path stagingRoot) throws IOException {
    this.store = Files.getFileStore(stagingRoot);
    this.reserve = DiskReserve.of(store);
    this.uid = ownerId("unix:uid");
    this.gid = ownerId("unix:gid");
    allowNullPaths();
  }

  /**
   * Sets {@code flag_nullpath_ok} in libfuse's operations table, which jnr-fuse does not expose.
   * With {@code hard_remove}, a file unlinked while open has no path any more; with this flag
   * libfuse still passes reads and writes on its open handle (with a null path, which the handle
   * based callbacks here never use) instead of failing them with ENOENT. The table's layout is the
   * libfuse 2.9 one: 38 function pointers, then the flag bits, then 6 more pointers; anything else
   * and the flag is left alone.
   */
  private void allowNullPaths() {
    jnr.ffi.Runtime runtime = jnr.ffi.Runtime.getSystemRuntime();
    int pointer = runtime.addressSize();
    if (pointer == 8
        && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
        && Struct.size(fuseOperations) == 38 * 8 + 8 + 6 * 8) {
      Pointer ops = Struct.getMemory(fuseOperations);
      ops.putByte(38 * 8, (byte) (ops.getByte(38 * 8) | 1));
    }
  }

  /** The owner of everything in the mount: this process's user, who alone may access it. */
  private static int ownerId(String attribute) {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), attribute);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  void add(AttemptTree tree) throws IOException {
    if (attempts.putIfAbsent(tree.key, tree) != null) {
      throw new IOException("an output directory for attempt " + tree.key + " is already open");
    }
  }

  void remove(AttemptTree tree) {
    attempts.remove(tree.key, tree);
  }

  /** Closes every attempt's tree; their handles fail from now on. */
  void closeAll() {
    for (AttemptTree tree : attempts.values()) {
      tree.close();
      attempts.remove(tree.key, tree);
    }
    handles.clear();
  }

  @Override
  public int getattr(String path, FileStat stat) {
    return call(
        "getattr",
        () -> {
          if ("/".equals(path)) {
            root.fill(stat, uid, gid);
          } else {
            Where w = where(path);
            w.tree.getattr(w.rel, stat, uid, gid);
          }
          return 0;
        });
  }

  @Override
  public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
    return call(
        "fgetattr",
        () -> {
          Handle h = handles.get(fi.fh.get());
          if (h == null) {
            return getattr(path, stat);
          }
          h.tree.fgetattr(h.file, stat, uid, gid);
          return 0;
        });
  }

  @Override
  public int readdir(
      String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
    return call(
        "readdir",
        () -> {
          List<String> names;
          if ("/".equals(path)) {
            names = new ArrayList<>(attempts.keySet());
          } else {
            Where w = where(path);
            names = w.tree.list(w.rel);
          }
          // Offset 0 for every entry: libfuse buffers the whole listing itself.
          if (fill(filler, buf, ".") || fill(filler, buf, "..")) {
            return 0;
          }
          for (String name : names) {
            if (fill(filler, buf, name)) {
              break;
            }
          }
          return 0;
        });
  }

  /** Adds one entry; true when the buffer is full. */
  private static boolean fill(FuseFillDir filler, Pointer buf, String name) {
    // jnr-fuse's String overload passes the name without its terminating NUL.
    byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
    ByteBuffer cName = ByteBuffer.allocate(bytes.length + 1).put(bytes).put((byte) 0).flip();
    return filler.apply(buf, cName, null, 0) != 0;
  }

  @Override
  public int mkdir(String path, @mode_t long mode) {
    return call(
        "mkdir",
        () -> {
          Where w = whereBelowRoot(path);
          w.tree.mkdir(w.rel, mode);
          return 0;
        });
  }

  @Override
  public int create(String path, @mode_t long mode, FuseFileInfo fi) {
    return call(
        "create",
        () -> {
          Where w = whereBelowRoot(path);
          fi.fh.set(register(w.tree, w.tree.create(w.rel, mode, fi.flags.get())));
          bypassPageCacheWhenWriteOnly(fi);
          return 0;
        });
  }

  @Override
  public int open(String path, FuseFileInfo fi) {
    return call(
        "open",
        () -> {
          Where w = where(path);
          fi.fh.set(register(w.tree, w.tree.open(w.rel, fi.flags.get())));
          bypassPageCacheWhenWriteOnly(fi);
          return 0;
        });
  }

  /**
   * Opens a write-only handle in FUSE's direct-io mode. A cached write is copied once more, into
   * the kernel's page cache of the mount, for nothing: grit keeps the bytes (in memory or in a
   * staging file, itself in the page cache) and the script cannot read them back through this
   * handle, nor map it (mmap needs read access). The kernel drops cached pages of the written range
   * before each direct write, so a reader holding the file open elsewhere still sees the new bytes.
   * Handles that can read stay cached. {@code direct_io} is the lowest bit of the word at offset 20
   * of libfuse 2.9's {@code fuse_file_info} (40 bytes on 64-bit Linux; jnr-fuse maps it as padding);
   * any other layout and the handle stays cached.
   */
  private static void bypassPageCacheWhenWriteOnly(FuseFileInfo fi) {
    if ((fi.flags.get() & O_ACCMODE) == O_WRONLY
        && Struct.size(fi) == 40
        && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
      Pointer info = Struct.getMemory(fi);
      info.putInt(DIRECT_IO_WORD, info.getInt(DIRECT_IO_WORD) | 1);
    }
  }

  private long register(AttemptTree tree, StagedFile file) {
    long fh = nextHandle.getAndIncrement();
    handles.put(fh, new Handle(tree, file));
    return fh;
  }

  @Override
  public int read(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return call(
        "read",
        () -> {
          Handle h = handle(fi);
          byte[] bytes = borrow((int) size);
          try {
            int n = h.tree.read(h.file, bytes, (int) size, offset);
            buf.put(0, bytes, 0, n);
            return n;
          } finally {
            giveBack(bytes);
          }
        });
  }

  @Override
  public int write(
      String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
    return call(
        "write",
        () -> {
          Handle h = handle(fi);
          // The disk holds the node's record too: outputs stop short of its reserve.
          if (store.getUsableSpace() - size < reserve) {
            throw new FsError(Errno.ENOSPC);
          }
          byte[] bytes = borrow((int) size);
          try {
            buf.get(0, bytes, 0, (int) size);
            h.tree.write(h.file, bytes, (int) size, offset);
            return (int) size;
          } finally {
            giveBack(bytes);
          }
        });
  }

  private byte[] borrow(int size) {
    if (size > MAX_WRITE) {
      return new byte[size];
    }
    byte[] bytes = buffers.poll();
    return bytes != null ? bytes : new byte[MAX_WRITE];
  }

  /** At most one buffer per concurrent callback is ever out, so the pool stays that small. */
  private void giveBack(byte[] bytes) {
    if (bytes.length == MAX_WRITE) {
      buffers.offer(bytes);
    }
  }

  @Override
  public int truncate(String path, @off_t long size) {
    return call(
        "truncate",
        () -> {
          Where w = where(path);
          w.tree.truncate(w.rel, size);
          return 0;
        });
  }

  @Override
  public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
    return call(
        "ftruncate",
        () -> {
          Handle h = handles.get(fi.fh.get());
          if (h == null) {
            return truncate(path, size);
          }
          h.tree.ftruncate(h.file, size);
          return 0;
        });
  }

  @Override
  public int release(String path, FuseFileInfo fi) {
    return call(
        "release",
        () -> {
          Handle h = handles.remove(fi.fh.get());
          if (h != null) {
            h.tree.release(h.file);
          }
          return 0;
        });
  }

  @Override
  public int unlink(String path) {
    return call(
        "unlink",
        () -> {
          Where w = where(path);
          w.tree.unlink(w.rel);
          return 0;
        });
  }

  @Override
  public int rmdir(String path) {
    return call(
        "rmdir",
        () -> {
          Where w = where(path);
          w.tree.rmdir(w.rel);
          return 0;
        });
  }

  @Override
  public int rename(String oldpath, String newpath) {
    return call(
        "rename",
        () -> {
          Where from = where(oldpath);
          Where to = whereBelowRoot(newpath);
          if (from.tree != to.tree) {
            // Attempts never share files: mv falls back to copying, which the target accepts.
            throw new FsError(Errno.EXDEV);
          }
          from.tree.rename(from.rel, to.rel);
          return 0;
        });
  }

  @Override
  public int chmod(String path, @mode_t long mode) {
    return call(
        "chmod",
        () -> {
          if (!"/".equals(path)) {
            Where w = where(path);
            w.tree.chmod(w.rel, mode);
          }
          return 0;
        });
  }

  /** Ownership is always the node's user; accepted so that {@code cp -p} and the like work. */
  @Override
  public int chown(String path, long uid, long gid) {
    return call(
        "chown",
        () -> {
          if (!"/".equals(path)) {
            Where w = where(path);
            w.tree.check(w.rel);
          }
          return 0;
        });
  }

  /**
   * Keeps the modification time (for {@code touch -d}, {@code cp -p}); access times are not kept.
   */
  @Override
  public int utimens(String path, Timespec[] timespec) {
    return call(
        "utimens",
        () -> {
          if ("/".equals(path)) {
            return 0;
          }
          Where w = where(path);
          long nsec = timespec[1].tv_nsec.longValue();
          long mtime;
          if (nsec == UTIME_OMIT) {
            mtime = -1;
          } else if (nsec == UTIME_NOW) {
            mtime = FsNode.now();
          } else {
            mtime = timespec[1].tv_sec.get() * 1_000_000_000L + nsec;
          }
          w.tree.setMtime(w.rel, mtime);
          return 0;
        });
  }

  /**
   * The staging disk's space, less the reserve that outputs may not take, so that {@code df} and
   * space checks in scripts see what they can write.
   */
  @Override
  public int statfs(String path, Statvfs stat) {
    return call(
        "statfs",
        () -> {
          long block = 4096;
          stat.f_bsize.set(block);
          stat.f_frsize.set(block);
          stat.f_blocks.set(store.getTotalSpace() / block);
          stat.f_bfree.set(store.getUnallocatedSpace() / block);
          stat.f_bavail.set(Math.max(0, store.getUsableSpace() - reserve) / block);
          stat.f_namemax.set(255);
          return 0;
        });
  }

  /** Outputs are regular files and directories only: a link could not become a resource. */
  @Override
  public int symlink(String oldpath, String newpath) {
    return -Errno.EPERM;
  }

  @Override
  public int link(String oldpath, String newpath) {
    return -Errno.EPERM;
  }

  /** Only special files come here (regular files go through {@link #create}): refused. */
  @Override
  public int mknod(String path, @mode_t long mode, long rdev) {
    return -Errno.EPERM;
  }

  @Override
  public int readlink(String path, Pointer buf, @size_t long size) {
    return -Errno.EINVAL;
  }

  private Where where(String path) throws FsError {
    if (path == null) {
      throw new FsError(Errno.ENOENT);
    }
    int slash = path.indexOf('/', 1);
    String key = slash < 0 ? path.substring(1) : path.substring(1, slash);
    AttemptTree tree = attempts.get(key);
    if (tree == null) {
      throw new FsError(Errno.ENOENT);
    }
    return new Where(tree, slash < 0 ? "" : path.substring(slash));
  }

  /** For calls that create {@code path}: the root takes no new entries but the attempts'. */
  private Where whereBelowRoot(String path) throws FsError {
    if (path != null && path.indexOf('/', 1) < 0) {
      throw new FsError(attempts.containsKey(path.substring(1)) ? Errno.EEXIST : Errno.EACCES);
    }
    return where(path);
  }

  private Handle handle(FuseFileInfo fi) throws FsError {
    Handle h = handles.get(fi.fh.get());
    if (h == null) {
      throw new FsError(Errno.EBADF);
    }
    return h;
  }

  private interface Call {
    int run() throws FsError, IOException;
  }

  /** Runs one callback; nothing may escape into native code, so the unexpected becomes EIO. */
  private static int call(String name, Call call) {
    try {
      return call.run();
    } catch (FsError e) {
      return -e.errno;
    } catch (IOException e) {
      return -Errno.of(e);
    } catch (Throwable e) {
      log.error("FUSE {} failed", name, e);
      return -Errno.EIO;
    }
  }
}
