package dev.grit.engine.execute;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;

/**
 * Runs attempts: {@code sh -c script} as the leader of a new process group (through {@code
 * setsid}), so that a timeout, a cancel or the end of the script can kill everything it started.
 *
 * <p>Each attempt gets:
 *
 * <ul>
 *   <li>a working directory of its own, {@code workDir/scratch/<key>}, removed afterwards;
 *   <li>stdin from {@code /dev/null}; stdout and stderr together in a log file whose last {@link
 *       #LOG_TAIL_BYTES} bytes become {@link AttemptResult#logTail()} (the file is then deleted);
 *   <li>the node's environment, then the step's {@code env}, then — not overridable — {@code
 *       OUTPUT_DIR}, {@code INPUT_FILE} (empty for a start step), {@code GRIT_INPUT_NAME}, {@code
 *       GRIT_INPUT_HASH} (empty for a start step), {@code GRIT_TASK_ID}, {@code GRIT_ATTEMPT} and
 *       {@code GRIT_STEP}; for a gather task also {@code INPUT_DIR} and {@code INPUT_LIST} (see
 *       {@link GatheredInputs}), its {@code INPUT_FILE} and {@code GRIT_INPUT_*} being empty.
 * </ul>
 *
 * <p>An attempt succeeds when the script exits with status 0; only then are its outputs collected.
 * The input file belongs to the caller and is left alone. Thread-safe.
 */
public final class TaskRunner {
  /** The most bytes of a script's output kept in {@link AttemptResult#logTail()}. */
  public static final int LOG_TAIL_BYTES = 64 * 1024;

  private static final File DEV_NULL = new File("/dev/null");

  private final OutputDir outputs;
  private final Path scratchRoot;
  private final Path logRoot;
  private final InstantSource clock;

  /**
   * @param workDir where scratch directories and logs live; what an earlier process left in its
   *     {@code scratch} and {@code logs} sub-directories is removed
   */
  public TaskRunner(OutputDir outputs, Path workDir, InstantSource clock) {
    this.outputs = outputs;
    this.scratchRoot = workDir.resolve("scratch");
    this.logRoot = workDir.resolve("logs");
    this.clock = clock;
    try {
      FileTrees.delete(scratchRoot);
      FileTrees.delete(logRoot);
      Files.createDirectories(scratchRoot);
      Files.createDirectories(logRoot);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + workDir, e);
    }
  }

  /**
   * Starts the attempt's script and returns at once.
   *
   * @throws IOException when the output or scratch directory cannot be made or the process not
   *     started; nothing is left behind then
   */
  public RunningAttempt start(AttemptSpec spec) throws IOException {
    AttemptOutput output = outputs.create(spec.key());
    Path scratch = scratchRoot.resolve(spec.key());
    Path log = logRoot.resolve(spec.key() + ".log");
    try {
      Files.createDirectory(scratch);
      ProcessBuilder builder =
          new ProcessBuilder("setsid", "sh", "-c", spec.script())
              .directory(scratch.toFile())
              .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
              .redirectErrorStream(true)
              // Straight to a file: no pump threads per attempt.
              .redirectOutput(log.toFile());
      setEnvironment(builder.environment(), spec, output.path());
      Instant started = clock.instant();
      long startNanos = System.nanoTime();
      Process process = builder.start();
      return new ProcessAttempt(spec, process, output, scratch, log, started, startNanos, clock);
    } catch (IOException | RuntimeException e) {
      output.close();
      FileTrees.deleteQuietly(scratch);
      Files.deleteIfExists(log);
      throw e;
    }
  }

  /**
   * Starts the attempt, waits for it and releases it. The outputs' names, layouts and the log tail
   * are in the result, but their staging files are already gone: to keep the bytes, use {@link
   * #start} and read them before {@link RunningAttempt#close()}.
   */
  public AttemptResult run(AttemptSpec spec) throws IOException, InterruptedException {
    try (RunningAttempt attempt = start(spec)) {
      return attempt.await();
    }
  }

  private static void setEnvironment(Map<String, String> env, AttemptSpec spec, Path outputDir) {
    env.putAll(spec.env());
    env.put("OUTPUT_DIR", outputDir.toString());
    env.put("INPUT_FILE", spec.inputFile() == null ? "" : spec.inputFile().toString());
    env.put("GRIT_INPUT_NAME", spec.inputName() == null ? "" : spec.inputName());
    env.put("GRIT_INPUT_HASH", spec.inputHash() == null ? "" : spec.inputHash().toString());
    env.put("GRIT_TASK_ID", Long.toString(spec.taskId()));
    env.put("GRIT_ATTEMPT", Integer.toString(spec.attempt()));
    env.put("GRIT_STEP", spec.stepName());
    if (spec.gathered() != null) {
      env.put("INPUT_DIR", spec.gathered().dir().toString());
      env.put("INPUT_LIST", spec.gathered().list().toString());
    }
  }

  /** A duration as people write it: {@code 500ms}, {@code 10s}, {@code 1.5s}, {@code 1h2m3s}. */
  static String format(Duration d) {
    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
      return d.toMillis() + "ms";
    }
    StringBuilder b = new StringBuilder();
    long seconds = d.getSeconds();
    if (seconds >= 3600) {
      b.append(seconds / 3600).append('h');
    }
    if (seconds >= 60) {
      b.append(seconds % 3600 / 60).append('m');
    }
    b.append(seconds % 60);
    int millis = d.toMillisPart();
    if (millis > 0) {
      b.append('.').append(String.format("%03d", millis).replaceAll("0+$", ""));
    }
    return b.append('s').toString();
  }
}
