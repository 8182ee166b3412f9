package dev.grit.discovery;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Polling with a deadline: the only way these tests wait for something to happen. */
final class Wait {
  private static final long POLL_MILLIS = 20;

  private Wait() {}

  /**
   * Returns once {@code condition} holds; fails naming {@code what}, and what {@code detail} says
   * at that moment, when it still does not after {@code limit}.
   */
  static void until(String what, Duration limit, BooleanSupplier condition, Supplier<String> detail) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + limit.toMillis() + " ms waiting for " + what + "\n" + detail.get());
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while waiting for " + what, e);
      }
    }
  }
}
