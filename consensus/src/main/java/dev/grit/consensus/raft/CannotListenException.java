package dev.grit.consensus.raft;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Locale;

/**
 * A server socket could not be bound, most often because another process holds the port. Its
 * message is the one line an operator needs: {@code cannot listen on HOST:PORT: address already
 * in use}.
 */
public final class CannotListenException extends BindException {
  public CannotListenException(String hostPort, IOException cause) {
    super("cannot listen on " + hostPort + ": " + reason(cause));
    initCause(cause);
  }

  private static String reason(IOException cause) {
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    return message.toLowerCase(Locale.ROOT);
  }

  /**
   * Fails when {@code host:port} cannot be bound now. Ratis's gRPC server ends the whole JVM
   * with a stack trace when its bind fails, so the Raft port is tried here first; a process that
   * takes the port in between still stops the node, only less politely.
   */
  static void check(String host, int port) throws CannotListenException {
    try (var socket = new ServerSocket()) {
      // As the server itself will: a socket of a previous run in TIME_WAIT is no conflict.
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new CannotListenException(host + ":" + port, e);
    }
  }
}
