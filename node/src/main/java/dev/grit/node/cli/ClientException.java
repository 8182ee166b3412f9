package dev.grit.node.cli;

/**
 * A client command that cannot go on, with the exit code it ends with: {@link Main#USAGE} for a
 * request the server refused as malformed, {@link Main#FAILED} for something absent, {@link
 * Main#UNREACHABLE} when no server answered. {@link Main} prints the message and exits.
 */
final class ClientException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int exitCode;

  ClientException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
