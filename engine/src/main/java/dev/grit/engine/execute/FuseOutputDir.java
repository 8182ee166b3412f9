package dev.grit.engine.execute;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outputs captured through one FUSE mount at {@code workDir/mnt}, one sub-directory per attempt.
 * Every file a script writes is held in memory while it is small (see {@link StagingFiles}), else
 * streams into a staging file under {@code workDir/staging/} while it is hashed, so collecting
 * outputs after the script exits reads no disk again unless a file was written out of order.
 *
 * <p>Scripts may create, write (in order or at offsets), truncate, append, read back, rename,
 * unlink and make nested directories; {@code chmod}, {@code chown} and {@code touch} succeed.
 * Symbolic links, hard links and special files are refused with EPERM, renames to another attempt
 * with EXDEV, and a full disk is reported to the script as ENOSPC; so is a write that would leave
 * the disk with less than {@link dev.grit.engine.object.DiskReserve} free.
 */
public final class FuseOutputDir implements OutputDir {
  private static final Logger log = LoggerFactory.getLogger(FuseOutputDir.class);
  private static final Path DEV_FUSE = Path.of("/dev/fuse");
  private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(10);

  /**
   * auto_unmount: a killed node leaves no dead mount behind. big_writes and max_write: 128 KiB per
   * write call instead of 4 KiB. hard_remove: an unlinked open file disappears at once instead of
   * lingering as a {@code .fuse_hidden} file that would look like an output. entry_timeout and
   * attr_timeout 0: the kernel caches no names or sizes, which would outlive a closed attempt's
   * directory (a reused key would then see files that are gone); measured, this costs nothing
   * noticeable for short attempts.
   */
  private static final String[] OPTIONS = {
    "-o",
    "auto_unmount,big_writes,max_write="
        + OutputFs.MAX_WRITE
        + ",hard_remove,entry_timeout=0,attr_timeout=0,fsname=grit,subtype=grit"
  };

  private final Path mountPoint;
  private final Path stagingRoot;
  private final StagingFiles staging;
  private final OutputFs fs;
  private final Thread loop;
  private final AtomicBoolean closed = new AtomicBoolean();

  private FuseOutputDir(Path mountPoint, Path stagingRoot, OutputFs fs, Thread loop) {
    this.mountPoint = mountPoint;
    this.stagingRoot = stagingRoot;
    this.staging = new StagingFiles(stagingRoot, StagingFiles.MEMORY_BUDGET);
    this.fs = fs;
    this.loop = loop;
  }

  /**
   * Mounts at {@code workDir/mnt} and returns once the mount is in place.
   *
   * @throws IOException saying why FUSE cannot be used: no {@code /dev/fuse}, libfuse missing, the
   *     mount refused or not seen within a few seconds
   */
  public static FuseOutputDir mount(Path workDir) throws IOException {
    if (!Files.exists(DEV_FUSE)) {
      throw new IOException("there is no " + DEV_FUSE + " (in a container: give it the device)");
    }
    Files.createDirectories(workDir);
    Path root = workDir.toRealPath();
    Path mountPoint = root.resolve("mnt");
    Path stagingRoot = root.resolve("staging");
    if (Mounts.isMounted(mountPoint)) {
      unmountStale(mountPoint);
    }
    try {
      Files.createDirectories(mountPoint);
      try (var entries = Files.list(mountPoint)) {
        if (entries.findAny().isPresent()) {
          throw new IOException("the mount point " + mountPoint + " is not empty");
        }
      }
      FileTrees.delete(stagingRoot);
      Files.createDirectories(stagingRoot);
    } catch (FileSystemException e) {
      // Its message is only the path: say what failed.
      throw new IOException("cannot prepare " + mountPoint + ": " + e, e);
    }

    OutputFs fs;
    try {
      fs = new OutputFs(stagingRoot);
    } catch (IOException e) {
      throw e;
    } catch (Throwable e) {
      // A missing libfuse is an UnsatisfiedLinkError from the constructor, whose message lists
      // every directory searched: the reason is said in a few words instead.
      throw new IOException(unavailableReason(e), e);
    }

    InheritedFds.closeOnExec();
    // jnr-fuse's own non-blocking mount always waits 2 s: block on a thread of ours instead.
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread loop =
        new Thread(
            () -> {
              try {
                fs.mount(mountPoint, true, false, OPTIONS);
              } catch (Throwable e) {
                failure.set(e);
              }
            },
            "grit-fuse");
    loop.setDaemon(true);
    loop.start();
    boolean mounted;
    try {
      mounted = Mounts.await(mountPoint, true, MOUNT_TIMEOUT, () -> !loop.isAlive());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fs.umount();
      throw new InterruptedIOException("interrupted while mounting " + mountPoint);
    }
    if (!mounted) {
      if (loop.isAlive()) {
        fs.umount();
        throw new IOException(
            mountPoint + " was not mounted within " + MOUNT_TIMEOUT.toSeconds() + " s");
      }
      throw new IOException(
          "mount of " + mountPoint + " failed: " + firstLine(rootCause(failure.get())));
    }
    log.debug("FUSE output directory mounted at {}", mountPoint);
    return new FuseOutputDir(mountPoint, stagingRoot, fs, loop);
  }

  /** A mount left by an earlier process whose helper could not unmount it. */
  private static void unmountStale(Path mountPoint) throws IOException {
    log.warn("unmounting the stale FUSE mount at {}", mountPoint);
    try {
      new ProcessBuilder("fusermount", "-u", "-z", mountPoint.toString())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start()
          .waitFor();
      if (!Mounts.await(mountPoint, false, UNMOUNT_TIMEOUT, () -> false)) {
        throw new IOException("the stale mount at " + mountPoint + " could not be removed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while unmounting " + mountPoint);
    }
  }

  /**
   * Why FUSE cannot be used, in a few words, from what the file system's constructor threw: no
   * library search path, which is what the loader's own message is mostly made of.
   */
  static String unavailableReason(Throwable e) {
    if (e instanceof LinkageError) {
      return "libfuse.so.2 is not installed";
    }
    return "the FUSE file system could not be created: " + firstLine(String.valueOf(e));
  }

  /** The first line of a message, at most 200 characters of it. */
  static String firstLine(String message) {
    String line = message.lines().findFirst().orElse("").strip();
    return line.length() <= 200 ? line : line.substring(0, 200) + "…";
  }

  private static String rootCause(Throwable e) {
    if (e == null) {
      return "the FUSE loop ended";
    }
    while (e.getCause() != null && e.getCause() != e) {
      e = e.getCause();
    }
    return e.toString();
  }

  /** Bytes that the files of open attempts hold in memory. */
  long heldBytes() {
    return staging.held();
  }

  /** Where the file system is mounted. */
  public Path mountPoint() {
    return mountPoint;
  }

  @Override
  public AttemptOutput create(String key, ChunkListener listener) throws IOException {
    OutputDirs.checkKey(key);
    if (closed.get()) {
      throw new IOException("the FUSE output directory is closed");
    }
    AttemptTree tree = new AttemptTree(key, staging, listener);
    fs.add(tree);
    return new Attempt(mountPoint.resolve(key), tree);
  }

  @Override
  public String kind() {
    return "fuse";
  }

  /**
   * Closes every attempt's directory and unmounts, waiting (boundedly) until the mount is gone
   * ({@code fusermount -u} only starts it) and the FUSE loop has ended.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    fs.closeAll();
    fs.umount();
    try {
      if (!Mounts.await(mountPoint, false, UNMOUNT_TIMEOUT, () -> false)) {
        log.warn(
            "{} is still mounted {} s after unmounting", mountPoint, UNMOUNT_TIMEOUT.toSeconds());
      }
      // The unmount is lazy: the loop ends once no process holds anything in the mount.
      loop.join(UNMOUNT_TIMEOUT.toMillis());
      if (loop.isAlive()) {
        log.warn("the FUSE loop of {} has not ended; a process still uses the mount", mountPoint);
      }
    } catch (IOException e) {
      log.warn("could not check that {} was unmounted: {}", mountPoint, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    FileTrees.deleteQuietly(stagingRoot);
  }

  private final class Attempt implements AttemptOutput {
    private final Path path;
    private final AttemptTree tree;

    Attempt(Path path, AttemptTree tree) {
      this.path = path;
      this.tree = tree;
    }

    @Override
    public Path path() {
      return path;
    }

    @Override
    public List<OutputFile> collect() throws IOException {
      return tree.collect();
    }

    @Override
    public void close() {
      fs.remove(tree);
      tree.close();
    }
  }
}
