package dev.grit.node.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * The launcher's training run for its class-data archive ({@code -XX:ArchiveClassesAtExit}): the
 * archive holds the classes one JVM loaded, so this one JVM runs a manifest on an embedded node,
 * runs it again (nothing to do: answered without a node), then goes through the client side of
 * the commands that ask a server (its HTTP client, TLS and JSON classes, some 1,500 that a run
 * never loads), against a loopback server that closes every connection unanswered. Exits with
 * the runs' exit code, through the JVM's exit, which writes the archive.
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
    if (code == Main.OK) {
      // Again, with nothing to do: answered from the record at rest, without a node.
      code = Main.execute("run", args[0], "--db", args[1], "--quiet");
    }
    try (ServerSocket gone = closingServer()) {
      String server = "http://127.0.0.1:" + gone.getLocalPort();
      Main.execute("submit", args[0], "--server", server);
      Main.execute("list", "--server", server);
    }
    System.exit(code);
  }

  /**
   * A loopback server that closes each connection as it accepts it, as a node going away would:
   * the client's request fails at once. Bound until closed, so no other process can be given
   * its port meanwhile and answer instead.
   */
  private static ServerSocket closingServer() throws IOException {
    var server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  server.accept().close();
                } catch (IOException e) {
                  // The server was closed: the training is over.
                }
              }
            },
            "grit-training-server");
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }
}
