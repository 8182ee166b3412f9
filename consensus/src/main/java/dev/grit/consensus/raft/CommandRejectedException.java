package dev.grit.consensus.raft;

/** The group refused a command before logging it (it was invalid), or could not take it. */
public final class CommandRejectedException extends RuntimeException {
  public CommandRejectedException(String message, Throwable cause) {
    super(message, cause);
  }
}
