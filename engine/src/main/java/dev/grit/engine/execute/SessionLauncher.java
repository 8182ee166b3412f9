package dev.grit.engine.execute;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.byref.IntByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts {@code sh -c script} as the leader of a new session, and so of a new process group (what
 * timeouts and cancellations kill), in a working directory, with stdin from {@code /dev/null} and
 * stdout and stderr into one pipe. Two ways, chosen once:
 *
 * <ul>
 *   <li>{@code posix_spawn} with {@code POSIX_SPAWN_SETSID} (libc through jnr-ffi): the shell
 *       is the only program executed, and the child closes every descriptor above stderr with one
 *       call;
 *   <li>where libc lacks what that needs (glibc before 2.34, other libcs), {@link ProcessBuilder}
 *       running {@code setsid sh -c script}: one program more to load per attempt.
 * </ul>
 */
abstract class SessionLauncher {
  private static final Logger log = LoggerFactory.getLogger(SessionLauncher.class);
  private static final File DEV_NULL = new File("/dev/null");

  /** The launcher of this process: native when libc allows, else through {@code setsid}. */
  static SessionLauncher system() {
    return Holder.SYSTEM;
  }

  private static final class Holder {
    static final SessionLauncher SYSTEM = choose();
  }

  private static SessionLauncher choose() {
    try {
      return new Spawn(LibraryLoader.create(LibC.class).failImmediately().load("c"));
    } catch (Throwable e) {
      log.debug("posix_spawn with a new session is not available ({}): scripts start through setsid", e.toString());
      return SETSID;
    }
  }

  /** Through {@code setsid}: the portable way. */
  static final SessionLauncher SETSID =
      new SessionLauncher() {
        @Override
        Process start(String script, Path dir, Map<String, String> env) throws IOException {
          ProcessBuilder builder =
              new ProcessBuilder("setsid", "sh", "-c", script)
                  .directory(dir.toFile())
                  .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                  .redirectErrorStream(true);
          builder.environment().clear();
          builder.environment().putAll(env);
          return builder.start();
        }

        @Override
        String name() {
          return "setsid";
        }
      };

  /**
   * Starts the script. The process's {@link Process#getInputStream()} is its stdout and stderr;
   * its pid is its process group's id.
   *
   * @param env the whole environment of the script
   */
  abstract Process start(String script, Path dir, Map<String, String> env) throws IOException;

  /** "posix_spawn" or "setsid", for tests and messages. */
  abstract String name();

  /** The libc functions needed (glibc 2.34 or later). */
  public interface LibC {
    int posix_spawn_file_actions_init(Pointer actions);

    int posix_spawn_file_actions_destroy(Pointer actions);

    int posix_spawn_file_actions_addopen(
        Pointer actions, int fd, String path, int flags, int mode);

    int posix_spawn_file_actions_adddup2(Pointer actions, int fd, int newFd);

    int posix_spawn_file_actions_addchdir_np(Pointer actions, String path);

    int posix_spawn_file_actions_addclosefrom_np(Pointer actions, int from);

    int posix_spawnattr_init(Pointer attributes);

    int posix_spawnattr_destroy(Pointer attributes);

    int posix_spawnattr_setflags(Pointer attributes, short flags);

    int posix_spawnattr_setsigmask(Pointer attributes, Pointer signals);

    int posix_spawnattr_setsigdefault(Pointer attributes, Pointer signals);

    int sigemptyset(Pointer signals);

    int sigfillset(Pointer signals);

    int posix_spawnp(
        IntByReference pid,
        String file,
        Pointer actions,
        Pointer attributes,
        String[] argv,
        String[] envp);

    int pipe2(int[] fds, int flags);

    int close(int fd);

    int waitpid(int pid, IntByReference status, int options);

    int kill(int pid, int signal);
  }

  /** {@code posix_spawn} with {@code POSIX_SPAWN_SETSID}. */
  private static final class Spawn extends SessionLauncher {
    // glibc's values (also musl's): <spawn.h>, <fcntl.h>, <sys/wait.h>.
    private static final short SETSIGDEF = 0x04;
    private static final short SETSIGMASK = 0x08;
    private static final short SETSID = 0x80;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 02000000;
    /** Larger than glibc's posix_spawn_file_actions_t (80), posix_spawnattr_t (336), sigset_t. */
    private static final int STRUCT_BYTES = 1024;

    private final LibC libc;
    private final jnr.ffi.Runtime runtime;

    Spawn(LibC libc) {
      this.libc = libc;
      this.runtime = jnr.ffi.Runtime.getRuntime(libc);
    }

    @Override
    String name() {
      return "posix_spawn";
    }

    @Override
    Process start(String script, Path dir, Map<String, String> env) throws IOException {
      int[] pipe = new int[2];
      if (libc.pipe2(pipe, O_CLOEXEC) != 0) {
        throw new IOException("cannot make a pipe: " + lastError());
      }
      Pointer actions = Memory.allocateDirect(runtime, STRUCT_BYTES, true);
      Pointer attributes = Memory.allocateDirect(runtime, STRUCT_BYTES, true);
      Pointer signals = Memory.allocateDirect(runtime, STRUCT_BYTES, true);
      int pid;
      try {
        check(libc.posix_spawn_file_actions_init(actions), "file actions");
        try {
          check(libc.posix_spawnattr_init(attributes), "attributes");
          try {
            check(libc.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", O_RDONLY, 0), "stdin");
            check(libc.posix_spawn_file_actions_adddup2(actions, pipe[1], 1), "stdout");
            check(libc.posix_spawn_file_actions_adddup2(actions, 1, 2), "stderr");
            check(libc.posix_spawn_file_actions_addchdir_np(actions, dir.toString()), "chdir");
            check(libc.posix_spawn_file_actions_addclosefrom_np(actions, 3), "closefrom");
            // A new session; no signal blocked, none ignored (whatever the JVM's threads do).
            check(libc.posix_spawnattr_setflags(attributes, (short) (SETSID | SETSIGMASK | SETSIGDEF)), "flags");
            check(libc.sigemptyset(signals), "sigemptyset");
            check(libc.posix_spawnattr_setsigmask(attributes, signals), "signal mask");
            check(libc.sigfillset(signals), "sigfillset");
            check(libc.posix_spawnattr_setsigdefault(attributes, signals), "signal defaults");
            var environment = new ArrayList<String>(env.size());
            env.forEach((k, v) -> environment.add(k + "=" + v));
            var pidOut = new IntByReference();
            int error =
                libc.posix_spawnp(
                    pidOut,
                    "sh",
                    actions,
                    attributes,
                    new String[] {"sh", "-c", script},
                    environment.toArray(new String[0]));
            if (error != 0) {
              throw new IOException("cannot start sh -c in " + dir + ": " + describe(error));
            }
            pid = pidOut.intValue();
          } finally {
            libc.posix_spawnattr_destroy(attributes);
          }
        } finally {
          libc.posix_spawn_file_actions_destroy(actions);
        }
      } catch (IOException | RuntimeException e) {
        libc.close(pipe[0]);
        libc.close(pipe[1]);
        throw e;
      }
      libc.close(pipe[1]);
      InputStream output;
      try {
        // A stream of our own onto the pipe; the descriptor it was opened through then goes.
        output = new FileInputStream("/proc/self/fd/" + pipe[0]);
      } finally {
        libc.close(pipe[0]);
      }
      return new Spawned(libc, pid, output);
    }

    private void check(int result, String what) throws IOException {
      if (result != 0) {
        throw new IOException("posix_spawn " + what + ": " + describe(result));
      }
    }

    private String lastError() {
      return describe(runtime.getLastError());
    }

    private static String describe(int errno) {
      return "errno " + errno;
    }
  }

  /** A child started by {@code posix_spawn}: waited for through the JDK's reaper, reaped here. */
  private static final class Spawned extends Process {
    private static final int WNOHANG = 1;
    private static final int EINTR = 4;

    private final LibC libc;
    private final int pid;
    private final InputStream output;
    private final CompletableFuture<ProcessHandle> exited;
    private Integer exitCode;

    Spawned(LibC libc, int pid, InputStream output) {
      this.libc = libc;
      this.pid = pid;
      this.output = output;
      // Waits without reaping (the JDK only reaps children it started itself).
      this.exited =
          ProcessHandle.of(pid)
              .map(ProcessHandle::onExit)
              .orElseGet(() -> CompletableFuture.completedFuture(null));
    }

    @Override
    public long pid() {
      return pid;
    }

    @Override
    public OutputStream getOutputStream() {
      return OutputStream.nullOutputStream();
    }

    @Override
    public InputStream getInputStream() {
      return output;
    }

    @Override
    public InputStream getErrorStream() {
      return InputStream.nullInputStream();
    }

    @Override
    public int waitFor() throws InterruptedException {
      try {
        exited.get();
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
      return reap(0);
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
      try {
        exited.get(timeout, unit);
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        throw new IllegalStateException(e);
      }
      reap(0);
      return true;
    }

    @Override
    public int exitValue() {
      Integer code = reapIfExited();
      if (code == null) {
        throw new IllegalThreadStateException("process " + pid + " has not exited");
      }
      return code;
    }

    @Override
    public boolean isAlive() {
      return reapIfExited() == null;
    }

    @Override
    public void destroy() {
      if (isAlive()) {
        libc.kill(pid, ProcessGroups.SIGTERM);
      }
    }

    @Override
    public Process destroyForcibly() {
      if (isAlive()) {
        libc.kill(pid, ProcessGroups.SIGKILL);
      }
      return this;
    }

    private synchronized Integer reapIfExited() {
      if (exitCode == null) {
        reap(WNOHANG);
      }
      return exitCode;
    }

    /** Collects the exit status once; {@code options} 0 waits for it. */
    private synchronized int reap(int options) {
      if (exitCode != null) {
        return exitCode;
      }
      var status = new IntByReference();
      int r;
      do {
        r = libc.waitpid(pid, status, options);
      } while (r < 0 && jnr.ffi.Runtime.getRuntime(libc).getLastError() == EINTR);
      if (r == pid) {
        int s = status.intValue();
        // As the JDK reports it: the exit status, or 128 + the signal that ended it.
        exitCode = (s & 0x7f) == 0 ? (s >> 8) & 0xff : 0x80 + (s & 0x7f);
      } else if (r < 0) {
        // Not our child any more (reaped elsewhere): nothing to tell but that it ended.
        exitCode = 0x80;
      }
      return exitCode == null ? -1 : exitCode;
    }
  }

  /** For tests: both launchers this process can use. */
  static List<SessionLauncher> available() {
    return system() == SETSID ? List.of(SETSID) : List.of(system(), SETSID);
  }
}
