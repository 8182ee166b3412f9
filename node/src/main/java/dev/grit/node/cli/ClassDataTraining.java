package dev.grit.node.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * The launcher's training run for its class-data archive ({@code -XX:ArchiveClassesAtExit}): the
 * archive holds the classes one JVM loaded, so this one JVM runs a manifest on an embedded node and
 * then the client side of the commands that ask a server (its HTTP client, TLS and JSON classes,
 * some 1,500 that a run never loads), against a loopback port nobody listens on. Exits with the
 * run's exit code, through the JVM's exit, which writes the archive.
 *
 * <pre>java -XX:ArchiveClassesAtExit=FILE ... dev.grit.node.cli.ClassDataTraining MANIFEST DB</pre>
 */
public final class ClassDataTraining {
  private ClassDataTraining() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: ClassDataTraining MANIFEST DB");
      System.exit(Main.USAGE);
    }
    int code = Main.execute("run", args[0], "--db", args[1], "--quiet");
    String nobody = "http://127.0.0.1:" + closedPort();
    Main.execute("submit", args[0], "--server", nobody);
    Main.execute("list", "--server", nobody);
    System.exit(code);
  }

  /** A loopback port that was free a moment ago: connecting to it is refused at once. */
  private static int closedPort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
