package dev.grit.node.cli;

import java.lang.management.ManagementFactory;
import jnr.ffi.LibraryLoader;

/**
 * Ends the process with an exit code. After a command whose embedded node is closed ({@code grit
 * run}) it ends at once, through libc's {@code _exit}, instead of through the JVM's exit: on JDK
 * 17 that exit waits 300 ms whenever a thread is still inside native code, and a closed Ratis
 * server leaves one there (gRPC's shared event loop, in {@code epoll_wait}, which gRPC only
 * releases a second after the server stops). By then the node has closed everything it owns (the
 * record, the object store, the mount); what the JVM's exit would add is running the shutdown
 * hooks, which grit does not use, and stopping those leftover threads.
 */
final class ProcessEnd {
  /** libc's {@code _exit}: ends the process without running anything more in it. */
  public interface LibC {
    void _exit(int status);
  }

  private static volatile boolean nodeClosed;

  private ProcessEnd() {}

  /** The command's embedded node is closed: nothing in the process needs the JVM's exit. */
  static void afterNodeClosed() {
    nodeClosed = true;
  }

  static void exit(int code) {
    if (nodeClosed && !jvmWorksAtExit()) {
      System.out.flush();
      System.err.flush();
      try {
        LibraryLoader.create(LibC.class).failImmediately().load("c")._exit(code);
      } catch (RuntimeException | LinkageError e) {
        // no libc to call: the JVM's exit, only slower
      }
    }
    System.exit(code);
  }

  /**
   * Whether the JVM was asked to do something when it exits that {@code _exit} would skip: write
   * a class-data archive (the launcher's training run), dump a flight recording, or let an agent
   * (a profiler, code coverage) write its results.
   */
  static boolean jvmWorksAtExit() {
    if (jdk.jfr.FlightRecorder.isInitialized()) {
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
