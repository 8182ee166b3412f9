package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this process's open files out of helpers that native code forks. libfuse starts
 * {@code fusermount} (which stays for {@code auto_unmount}) with a plain fork and exec, so without
 * close-on-exec it would inherit every socket and file the JVM has open: a Raft port would stay
 * bound after its server closed, a lock after its owner died.
 */
final class InheritedFds {
  private static final Logger log = LoggerFactory.getLogger(InheritedFds.class);
  private static final int F_GETFD = 1;
  private static final int F_SETFD = 2;
  private static final int FD_CLOEXEC = 1;
  private static final LibC LIBC = load();

  /** The libc function needed. */
  public interface LibC {
    int fcntl(int fd, int cmd, int arg);
  }

  private InheritedFds() {}

  private static LibC load() {
    try {
      return LibraryLoader.create(LibC.class).failImmediately().load("c");
    } catch (Throwable e) {
      log.debug("libc not loadable through jnr-ffi: {}", e.toString());
      return null;
    }
  }

  /** Marks every open descriptor above stderr close-on-exec. */
  static void closeOnExec() {
    if (LIBC == null) {
      return;
    }
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path entry : fds) {
        int fd;
        try {
          fd = Integer.parseInt(entry.getFileName().toString());
        } catch (NumberFormatException e) {
          continue;
        }
        if (fd > 2) {
          int flags = LIBC.fcntl(fd, F_GETFD, 0);
          if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
            LIBC.fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
          }
        }
      }
    } catch (IOException e) {
      log.debug("cannot list open descriptors: {}", e.toString());
    }
  }
}
