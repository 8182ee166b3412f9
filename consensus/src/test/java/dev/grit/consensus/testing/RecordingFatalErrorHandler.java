package dev.grit.consensus.testing;

import dev.grit.consensus.raft.FatalErrorHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link FatalErrorHandler} that records each call instead of stopping the process, so a test can
 * assert that no replica hit an unrecoverable error (or that one did, when that is the point).
 */
public final class RecordingFatalErrorHandler implements FatalErrorHandler {
  /** One call: what failed, and why. */
  public record Call(String what, Throwable cause) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();

  @Override
  public void fatal(String what, Throwable cause) {
    calls.add(new Call(what, cause));
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  public void clear() {
    calls.clear();
  }

  /** Fails, with the first recorded cause attached, when any call was recorded. */
  public void assertNone() {
    if (calls.isEmpty()) {
      return;
    }
    var message = new StringBuilder(calls.size() + " fatal error(s):");
    for (Call c : calls) {
      message.append("\n  ").append(c.what()).append(": ").append(c.cause());
    }
    throw new AssertionError(message.toString(), calls.get(0).cause());
  }
}
