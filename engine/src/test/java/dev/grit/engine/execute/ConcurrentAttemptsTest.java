package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Many short attempts at once, as a busy node runs them: every one must get its own outputs. */
class ConcurrentAttemptsTest {
  private static final int ATTEMPTS = 200;
  private static final int THREADS = 4;

  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"fuse", "plain"})
  void manyConcurrentAttemptsGetTheirOwnOutputs(String kind) throws Exception {
    OutputDir outputs;
    try {
      outputs = OutputDir.open(tmp.resolve("outputs"), OutputMode.parse(kind));
    } catch (IOException e) {
      assumeTrue(false, "FUSE cannot be mounted here: " + e.getMessage());
      return;
    }
    try (outputs) {
      TaskRunner runner = new TaskRunner(outputs, tmp.resolve("work"), InstantSource.system());
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      long start = System.nanoTime();
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < ATTEMPTS; i++) {
          // Every fifth attempt writes more than one write call's worth, and in a sub-directory.
          int size = i % 5 == 0 ? 300_000 + i : i;
          AttemptSpec spec =
              TestAttempts.spec(
                  "echo $GRIT_TASK_ID > $OUTPUT_DIR/id\n"
                      + "mkdir -p $OUTPUT_DIR/d && head -c "
                      + size
                      + " /dev/zero | tr '\\0' x > $OUTPUT_DIR/d/data",
                  Duration.ofSeconds(30));
          done.add(pool.submit(() -> check(runner, spec, size)));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } finally {
        pool.shutdownNow();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "%s: %d attempts on %d threads in %.2f s, %.0f attempts/s%n",
          kind, ATTEMPTS, THREADS, seconds, ATTEMPTS / seconds);
    }
  }

  private static Void check(TaskRunner runner, AttemptSpec spec, int size) throws Exception {
    try (RunningAttempt attempt = runner.start(spec)) {
      Map<String, byte[]> files = TestAttempts.read(attempt.await());
      assertEquals(List.of("d/data", "id"), List.copyOf(files.keySet()));
      assertEquals(spec.taskId() + "\n", new String(files.get("id"), StandardCharsets.UTF_8));
      byte[] data = new byte[size];
      Arrays.fill(data, (byte) 'x');
      assertEquals(ObjectLayout.of(data), attempt.await().outputs().get(0).layout());
    }
    return null;
  }
}
