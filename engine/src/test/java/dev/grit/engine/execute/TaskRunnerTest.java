package dev.grit.engine.execute;

import static dev.grit.engine.execute.TestAttempts.bytes;
import static dev.grit.engine.execute.TestAttempts.gone;
import static dev.grit.engine.execute.TestAttempts.pidIn;
import static dev.grit.engine.execute.TestAttempts.spec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.object.Digest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process side of attempts, on plain output directories (FUSE is covered elsewhere), with
 * scripts started the way this process starts them; {@link SetsidTaskRunnerTest} runs every test
 * again with the portable way.
 */
class TaskRunnerTest {
  @TempDir Path tmp;
  private OutputDir outputs;
  private TaskRunner runner;

  @BeforeEach
  void open() throws Exception {
    outputs = OutputDir.open(tmp.resolve("outputs"), OutputMode.PLAIN);
    runner = new TaskRunner(outputs, tmp.resolve("work"), InstantSource.system(), launcher());
  }

  /** How scripts start: this process's way (posix_spawn where libc allows); see the subclass. */
  SessionLauncher launcher() {
    return SessionLauncher.system();
  }

  @AfterEach
  void close() {
    outputs.close();
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Test
  void aStartStepSeesGritVariablesAndEmptyInputs() throws Exception {
    var spec =
        new AttemptSpec(
            42,
            3,
            "make-things",
            """
for v in INPUT_FILE GRIT_INPUT_NAME GRIT_INPUT_HASH GRIT_TASK_ID GRIT_ATTEMPT GRIT_STEP \
         OUTPUT_DIR CUSTOM; do
  printf '%s=%s\\n' $v "$(printenv $v)"
done > $OUTPUT_DIR/env
test -n "$PATH" && pwd > $OUTPUT_DIR/pwd
""",
            null,
            null,
            null,
            Duration.ZERO,
            Map.of("CUSTOM", "from the manifest", "OUTPUT_DIR", "/not/this", "GRIT_STEP", "nope"));
    try (RunningAttempt attempt = runner.start(spec)) {
      Map<String, byte[]> files = TestAttempts.read(attempt.await());
      Path outputDir = tmp.resolve("outputs").toRealPath().resolve("plain").resolve("42-3");
      assertEquals(
          """
          INPUT_FILE=
          GRIT_INPUT_NAME=
          GRIT_INPUT_HASH=
          GRIT_TASK_ID=42
          GRIT_ATTEMPT=3
          GRIT_STEP=make-things
          OUTPUT_DIR=%s
          CUSTOM=from the manifest
          """
              .formatted(outputDir),
          text(files.get("env")));
      String pwd = text(files.get("pwd")).strip();
      assertEquals(tmp.resolve("work").resolve("scratch").toRealPath(), Path.of(pwd).getParent());
    }
  }

  @Test
  void aTaskSeesItsInput() throws Exception {
    Path input = tmp.resolve("input");
    Files.write(input, bytes("the input\n"));
    Digest hash = Digest.of(Files.readAllBytes(input));
    var spec =
        new AttemptSpec(
            7,
            1,
            "consume",
            "cat \"$INPUT_FILE\" > $OUTPUT_DIR/copy; echo \"$GRIT_INPUT_NAME $GRIT_INPUT_HASH\" >"
                + " $OUTPUT_DIR/meta",
            input,
            "parts/001",
            hash,
            Duration.ZERO,
            Map.of());
    try (RunningAttempt attempt = runner.start(spec)) {
      Map<String, byte[]> files = TestAttempts.read(attempt.await());
      assertEquals("the input\n", text(files.get("copy")));
      assertEquals("parts/001 " + hash + "\n", text(files.get("meta")));
    }
    assertTrue(Files.exists(input), "the input belongs to the caller");
  }

  @Test
  void stdinIsDevNull() throws Exception {
    AttemptResult result =
        runner.run(
            spec(
                "cat > $OUTPUT_DIR/stdin; readlink /proc/self/fd/0 > $OUTPUT_DIR/fd0",
                Duration.ofSeconds(10)));
    assertTrue(result.succeeded(), result.error());
    assertEquals(0, result.outputs().get(1).size());
    assertEquals(List.of("fd0", "stdin"), result.outputs().stream().map(OutputFile::name).toList());
  }

  @Test
  void theScriptInheritsNoDescriptorButStdinStdoutAndStderr() throws Exception {
    AttemptResult result = runner.run(spec("ls /proc/$$/fd"));
    assertTrue(result.succeeded(), result.error());
    assertEquals("0\n1\n2\n", TestAttempts.log(result));
  }

  @Test
  void theScriptLeadsItsOwnProcessGroup() throws Exception {
    try (RunningAttempt attempt =
        runner.start(
            spec("echo $$ > $OUTPUT_DIR/pid; cut -d' ' -f5 /proc/$$/stat > $OUTPUT_DIR/pgid"))) {
      Map<String, byte[]> files = TestAttempts.read(attempt.await());
      assertEquals(text(files.get("pid")), text(files.get("pgid")));
    }
  }

  @Test
  void aNonZeroExitFailsWithoutOutputs() throws Exception {
    AttemptResult result =
        runner.run(spec("echo x > $OUTPUT_DIR/a; echo to stdout; echo to stderr >&2; exit 7"));
    assertEquals(7, result.exitCode());
    assertEquals("exit status 7", result.error());
    assertFalse(result.succeeded());
    assertEquals(List.of(), result.outputs());
    assertEquals("to stdout\nto stderr\n", TestAttempts.log(result));
  }

  @Test
  void aRunningAttemptsOutputIsReadableFromAnOffsetWhileItRuns() throws Exception {
    Path gate = tmp.resolve("gate");
    try (RunningAttempt attempt =
        runner.start(
            spec("echo first; while [ ! -f " + gate + " ]; do sleep 0.02; done; echo second >&2"))) {
      long deadline = System.nanoTime() + 30_000_000_000L;
      LogTail.Read first = attempt.log().read(0);
      while (first.next() < 6 && System.nanoTime() < deadline) {
        Thread.sleep(10);
        first = attempt.log().read(0);
      }
      assertEquals("first\n", text(first.bytes()));
      assertFalse(first.ended(), "the script waits for the gate");

      Files.writeString(gate, "");
      AttemptResult result = attempt.await();
      LogTail.Read rest = attempt.log().read(first.next());
      assertEquals("second\n", text(rest.bytes()));
      assertTrue(rest.ended());
      assertEquals("first\nsecond\n", TestAttempts.log(result));
    }
  }

  @Test
  void success() throws Exception {
    AttemptResult result = runner.run(spec("echo hi; echo x > $OUTPUT_DIR/a"));
    assertEquals(0, result.exitCode());
    assertNull(result.error());
    assertEquals("hi\n", TestAttempts.log(result));
    assertEquals(1, result.outputs().size());
  }

  @Test
  void aTimeoutKillsTheWholeProcessGroup() throws Exception {
    Path pidFile = tmp.resolve("background.pid");
    long start = System.nanoTime();
    try (RunningAttempt attempt =
        runner.start(
            spec(
                "echo x > $OUTPUT_DIR/a; sleep 100 & echo $! > " + pidFile + "; sleep 100",
                Duration.ofMillis(300)))) {
      AttemptResult result = attempt.await();
      assertEquals("timed out after 300ms", result.error());
      assertEquals(-1, result.exitCode());
      assertEquals(List.of(), result.outputs());
      assertTrue(gone(pidIn(pidFile)), "the background sleep survived");
    }
    assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(5)) < 0);
  }

  @Test
  void aTimedOutGroupIgnoringTermIsKilled() throws Exception {
    Path pidFile = tmp.resolve("background.pid");
    AttemptResult result =
        runner.run(
            spec(
                "trap '' TERM; sleep 100 & echo $! > " + pidFile + "; while :; do sleep 1; done",
                Duration.ofMillis(200)));
    assertEquals("timed out after 200ms", result.error());
    assertTrue(gone(pidIn(pidFile)), "the background sleep survived");
  }

  @Test
  void cancelKillsTheWholeProcessGroup() throws Exception {
    Path pidFile = tmp.resolve("background.pid");
    try (RunningAttempt attempt =
        runner.start(spec("sleep 100 & echo $! > " + pidFile + "; sleep 100"))) {
      long background = pidIn(pidFile);
      attempt.cancel();
      AttemptResult result = attempt.await();
      assertEquals("cancelled", result.error());
      assertEquals(-1, result.exitCode());
      assertTrue(gone(background), "the background sleep survived");
      attempt.cancel();
      assertEquals(result, attempt.await());
    }
  }

  @Test
  void closeStopsAnAttemptNobodyAwaits() throws Exception {
    Path pidFile = tmp.resolve("background.pid");
    RunningAttempt attempt = runner.start(spec("sleep 100 & echo $! > " + pidFile + "; sleep 100"));
    long background = pidIn(pidFile);
    attempt.close();
    assertTrue(gone(background), "the background sleep survived");
    assertNothingLeftIn(tmp.resolve("work/scratch"));
  }

  /** Left in the working directories: at most empty ones, for later attempts. */
  private static void assertNothingLeftIn(Path scratchRoot) throws Exception {
    try (var left = Files.list(scratchRoot)) {
      for (Path dir : left.toList()) {
        try (var inside = Files.list(dir)) {
          assertEquals(List.of(), inside.toList(), dir + " is not empty");
        }
      }
    }
  }

  @Test
  void backgroundProcessesLeftAfterExitAreKilled() throws Exception {
    Path pidFile = tmp.resolve("background.pid");
    try (RunningAttempt attempt =
        runner.start(
            spec(
                "sleep 100 > /dev/null 2>&1 & echo $! > "
                    + pidFile
                    + "; echo done > $OUTPUT_DIR/a"))) {
      AttemptResult result = attempt.await();
      assertTrue(result.succeeded(), result.error());
      assertTrue(gone(pidIn(pidFile)), "the background sleep survived");
    }
  }

  @Test
  void theLogTailIsTheLastBytes() throws Exception {
    AttemptResult result = runner.run(spec("yes 0123456789abcdef | head -c 1048576"));
    assertTrue(result.succeeded(), result.error());
    byte[] line = bytes("0123456789abcdef\n");
    byte[] all = new byte[1 << 20];
    for (int i = 0; i < all.length; i++) {
      all[i] = line[i % line.length];
    }
    assertEquals(TaskRunner.LOG_TAIL_BYTES, result.logTail().length);
    assertArrayEquals(
        Arrays.copyOfRange(all, all.length - TaskRunner.LOG_TAIL_BYTES, all.length),
        result.logTail());
  }

  @Test
  void timesComeFromTheClock() throws Exception {
    AtomicLong ticks = new AtomicLong();
    InstantSource clock = () -> Instant.ofEpochSecond(1_000 + ticks.getAndIncrement());
    var ticking = new TaskRunner(outputs, tmp.resolve("work2"), clock, launcher());
    AttemptResult result = ticking.run(spec("true"));
    assertEquals(Instant.ofEpochSecond(1_000), result.started());
    assertEquals(Instant.ofEpochSecond(1_001), result.finished());
  }

  @Test
  void runReleasesEverything() throws Exception {
    AttemptResult result = runner.run(spec("echo x > $OUTPUT_DIR/a; touch junk"));
    assertTrue(result.succeeded());
    assertFalse(Files.exists(result.outputs().get(0).staging()), "the output's file goes with its attempt");
    try (var left = Files.list(tmp.resolve("work/scratch"))) {
      assertEquals(List.of(), left.toList(), "a directory left with a file in it is removed");
    }
  }

  @Test
  void aWorkingDirectoryLeftAsItWasIsUsedAgainAndNoOtherIs() throws Exception {
    String first = log("pwd");
    assertEquals(first, log("pwd"), "a directory left empty is used again");
    assertEquals(first, log("pwd; touch junk"));
    String other = log("pwd; ls -A");
    assertFalse(first.equals(other), "a directory left with a file in it is not used again");
    assertEquals(other, log("pwd; ls -A"), "and every script starts in an empty directory");
    assertEquals(other, log("pwd; chmod 711 ."));
    assertFalse(other.equals(log("pwd")), "a directory whose rights changed is not used again");
  }

  /** The log of a script run to its end. */
  private String log(String script) throws Exception {
    AttemptResult result = runner.run(spec(script));
    assertTrue(result.succeeded(), result.error());
    return TestAttempts.log(result);
  }

  @Test
  void durationsReadLikeTheManifest() {
    assertEquals("500ms", TaskRunner.format(Duration.ofMillis(500)));
    assertEquals("10s", TaskRunner.format(Duration.ofSeconds(10)));
    assertEquals("1.5s", TaskRunner.format(Duration.ofMillis(1500)));
    assertEquals("1m30s", TaskRunner.format(Duration.ofSeconds(90)));
    assertEquals("2h0m5s", TaskRunner.format(Duration.ofSeconds(7205)));
  }
}
