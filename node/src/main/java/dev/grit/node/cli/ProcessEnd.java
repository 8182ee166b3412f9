package dev.grit.node.cli;

import dev.grit.consensus.natives.NativeLibraries;
import java.lang.management.ManagementFactory;
import jnr.ffi.LibraryLoader;

/**
 * How the process ends after a command. After one that leaves a thread waiting in native code it
 * ends at once, through libc's {@code _exit}, instead of through the JVM's exit: on JDK 17 that
 * exit waits 300 ms whenever a thread is still inside native code. Two leave one there: {@code
 * grit run}'s closed Ratis server (gRPC's shared event loop, in {@code epoll_wait}, which gRPC
 * releases only a second after the server stops) and the HTTP client of the commands that ask a
 * server (its selector thread; JDK 17's client cannot be closed). Neither has anything left to
 * write; what the JVM's exit would add is running the shutdown hooks, which grit does not use, and
 * stopping those threads.
 */
final class ProcessEnd {
  /** libc's {@code _exit}: ends the process without running anything more in it. */
  public interface LibC {
    void _exit(int status);
  }

  private static volatile boolean atOnce;

  private ProcessEnd() {}

  /**
   * What the command leaves running needs nothing more: its embedded node is closed, or it made an
   * HTTP client. The process then ends at once (unless the JVM has work of its own at exit).
   */
  static void endAtOnce() {
    atOnce = true;
  }

  /**
   * Ends the process at once with {@code code} when asked to and the JVM has no work of its own
   * at exit; else returns, and the caller ends it through the JVM.
   */
  static void atOnceIfAsked(int code) {
    if (atOnce && !jvmWorksAtExit()) {
      System.out.flush();
      System.err.flush();
      try {
        LibraryLoader.create(LibC.class).failImmediately().load("c")._exit(code);
      } catch (RuntimeException | LinkageError e) {
        // no libc to call: the JVM's exit, only slower
      }
    }
  }

  /**
   * Whether the JVM was asked to do something when it exits that {@code _exit} would skip: delete
   * a native library extracted for this process (when the launcher's cache of them is not used),
   * write a class-data archive (the launcher's training run), dump a flight recording, or let an
   * agent (a profiler, code coverage) write its results.
   */
  static boolean jvmWorksAtExit() {
    if (NativeLibraries.extractedForThisProcess() || jdk.jfr.FlightRecorder.isInitialized()) {
      return true;
    }
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-XX:ArchiveClassesAtExit")
          || arg.startsWith("-javaagent")
          || arg.startsWith("-agentlib")
          || arg.startsWith("-agentpath")) {
        return true;
      }
    }
    return false;
  }
}
