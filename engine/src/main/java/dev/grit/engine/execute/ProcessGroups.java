package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signals to whole process groups. Java can only signal single processes, and a script's background
 * children outlive it under a new parent, so they are reached through the group that {@code setsid}
 * gave the script (its id is the script's pid). libc's {@code kill(2)} is called through jnr-ffi
 * (already here for FUSE): no process is spawned for the clean-up every attempt does; the {@code
 * kill} command is the fallback.
 */
final class ProcessGroups {
  static final int SIGKILL = 9;
  static final int SIGTERM = 15;

  private static final Logger log = LoggerFactory.getLogger(ProcessGroups.class);
  private static final LibC LIBC = loadLibC();
  private static final Path PROC = Path.of("/proc");

  /** The one libc function needed. */
  public interface LibC {
    int kill(int pid, int signal);
  }

  private ProcessGroups() {}

  private static LibC loadLibC() {
    try {
      return LibraryLoader.create(LibC.class).failImmediately().load("c");
    } catch (Throwable e) {
      log.debug("libc not loadable through jnr-ffi ({}); using the kill command", e.toString());
      return null;
    }
  }

  /**
   * Sends {@code signal} (0 only probes) to every process of group {@code pgid}.
   *
   * @return true when the group had at least one process (zombies included)
   */
  static boolean signal(long pgid, int signal) {
    if (pgid <= 1 || pgid > Integer.MAX_VALUE) {
      // kill(-1) and kill(0) would reach far more than one group.
      throw new IllegalArgumentException("not a process group of a script: " + pgid);
    }
    if (LIBC != null) {
      return LIBC.kill((int) -pgid, signal) == 0;
    }
    try {
      Process kill =
          new ProcessBuilder("sh", "-c", "kill -s " + signalName(signal) + " -- -" + pgid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      return kill.waitFor() == 0;
    } catch (IOException e) {
      log.warn("could not signal process group {}: {}", pgid, e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 0 -> "0";
      case SIGKILL -> "KILL";
      case SIGTERM -> "TERM";
      default -> Integer.toString(signal);
    };
  }

  /**
   * Kills what is left of group {@code pgid} and waits (at most {@code maxWaitMillis}) until none
   * of its processes runs any more, so that none is still writing when outputs are collected.
   * Zombies do not count: their new parent may be slow to reap them, or never do it.
   *
   * @return true when the group had processes left
   */
  static boolean killAll(long pgid, long maxWaitMillis) throws InterruptedException {
    if (!signal(pgid, SIGKILL)) {
      return false;
    }
    long deadline = System.nanoTime() + maxWaitMillis * 1_000_000L;
    while (hasRunningMember(pgid) && System.nanoTime() - deadline < 0) {
      Thread.sleep(1);
    }
    return true;
  }

  /** True when a process of group {@code pgid} is not yet a zombie, from {@code /proc}. */
  static boolean hasRunningMember(long pgid) {
    try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC)) {
      for (Path process : processes) {
        String name = process.getFileName().toString();
        if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
          continue;
        }
        String stat;
        try {
          stat = Files.readString(process.resolve("stat"));
        } catch (IOException | RuntimeException e) {
          continue; // gone meanwhile
        }
        // After the command name in parentheses: state, ppid, pgrp, ...
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ", 4);
        if (fields.length >= 3 && !fields[0].equals("Z") && fields[2].equals(Long.toString(pgid))) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      // Without /proc, fall back to what kill(2) says (zombies included).
      return signal(pgid, 0);
    }
  }
}
