package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/** Specs, output checks and waiting for the attempts of the tests. */
final class TestAttempts {
  private static final AtomicLong taskIds = new AtomicLong(1);

  private TestAttempts() {}

  static AttemptSpec spec(String script) {
    return spec(script, Duration.ofSeconds(30));
  }

  static AttemptSpec spec(String script, Duration timeout) {
    return new AttemptSpec(
        taskIds.getAndIncrement(), 1, "step", script, null, null, null, timeout, Map.of());
  }

  /**
   * The outputs of a succeeded attempt by name, in order, after checking that each one's layout
   * describes its bytes: against a fresh read of its staging file and against the bytes' SHA-256.
   */
  static Map<String, byte[]> read(AttemptResult result) throws IOException {
    assertTrue(result.succeeded(), () -> result.error() + "\nlog:\n" + log(result));
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (OutputFile file : result.outputs()) {
      byte[] bytes = file.readAllBytes();
      assertEquals(Digest.of(bytes), file.digest(), file.name());
      assertEquals(bytes.length, file.size(), file.name());
      assertEquals(ObjectLayout.of(bytes), file.layout(), file.name());
      if (!file.isHeld()) {
        assertEquals(ChunkingHasher.layoutOf(file.staging()), file.layout(), file.name());
      }
      files.put(file.name(), bytes);
    }
    return files;
  }

  static String log(AttemptResult result) {
    return new String(result.logTail(), StandardCharsets.UTF_8);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Waits for a condition, failing after {@code timeout}. */
  static void await(String what, Duration timeout, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(5);
    }
  }

  /** The pid a script wrote into {@code file}, once it is there. */
  static long pidIn(Path file) throws InterruptedException {
    await(
        "a pid in " + file,
        Duration.ofSeconds(10),
        () -> {
          try {
            return Files.readString(file).endsWith("\n");
          } catch (IOException e) {
            return false;
          }
        });
    try {
      return Long.parseLong(Files.readString(file).trim());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  /** True when process {@code pid} no longer runs (it is gone or a zombie waiting for reaping). */
  static boolean gone(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return true;
    }
  }
}
