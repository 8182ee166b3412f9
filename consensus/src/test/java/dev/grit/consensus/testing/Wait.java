package dev.grit.consensus.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polling with a deadline: the only way tests wait for something to happen. */
public final class Wait {
  private static final long POLL_MILLIS = 10;

  private Wait() {}

  /**
   * Returns once {@code condition} holds; fails with an {@link AssertionError} naming {@code what}
   * (and what {@code detail} says at that moment) when it still does not after {@code limit}.
   */
  public static void until(
      String what, Duration limit, BooleanSupplier condition, Supplier<String> detail) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after "
                + limit.toMillis()
                + " ms waiting for "
                + what
                + (detail == null ? "" : "\n" + detail.get()));
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }

  public static void until(String what, Duration limit, BooleanSupplier condition) {
    until(what, limit, condition, null);
  }
}
