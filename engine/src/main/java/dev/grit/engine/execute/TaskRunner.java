package dev.grit.engine.execute;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs attempts: {@code sh -c script} as the leader of a new session and process group (see
 * {@link SessionLauncher}), so that a timeout, a cancel or the end of the script can kill
 * everything it started.
 *
 * <p>Each attempt gets:
 *
 * <ul>
 *   <li>a working directory of its own under {@code workDir/scratch}, empty when the script
 *       starts; one its attempt left empty is used again by a later attempt, any other is
 *       removed with its content;
 *   <li>stdin from {@code /dev/null}; stdout and stderr together in one pipe, of which the last
 *       {@link #LOG_TAIL_BYTES} bytes become {@link AttemptResult#logTail()};
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

  private final OutputDir outputs;
  private final Path scratchRoot;
  private final InstantSource clock;
  private final SessionLauncher launcher;

  /**
   * Working directories their attempts left empty, for later ones: creating and removing a
   * directory per attempt cost more than many a script (on some file systems creating one scans
   * every inode deleted in the last minute).
   */
  private final Queue<Path> idleScratch = new ConcurrentLinkedQueue<>();

  private final AtomicLong scratchNames = new AtomicLong();

  /** The rights a new scratch directory gets: one whose script changed them is not reused. */
  private volatile Set<PosixFilePermission> scratchMode;

  /**
   * @param workDir where scratch directories live; what an earlier process left in its {@code
   *     scratch} sub-directory (and in the {@code logs} one of earlier releases) is removed
   */
  public TaskRunner(OutputDir outputs, Path workDir, InstantSource clock) {
    this(outputs, workDir, clock, SessionLauncher.system());
  }

  /** As above, starting scripts with {@code launcher} (tests run both). */
  TaskRunner(OutputDir outputs, Path workDir, InstantSource clock, SessionLauncher launcher) {
    this.outputs = outputs;
    this.scratchRoot = workDir.resolve("scratch");
    this.clock = clock;
    this.launcher = launcher;
    try {
      FileTrees.delete(scratchRoot);
      FileTrees.delete(workDir.resolve("logs"));
      Files.createDirectories(scratchRoot);
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
    return start(spec, ChunkListener.NONE);
  }

  /** As {@link #start(AttemptSpec)}, telling {@code chunks} of each whole chunk of its outputs. */
  public RunningAttempt start(AttemptSpec spec, ChunkListener chunks) throws IOException {
    AttemptOutput output = outputs.create(spec.key(), chunks);
    Path scratch = null;
    try {
      scratch = takeScratch();
      Map<String, String> env = new HashMap<>(System.getenv());
      setEnvironment(env, spec, output.path());
      Instant started = clock.instant();
      long startNanos = System.nanoTime();
      Process process = launcher.start(spec.script(), scratch, env);
      LogTail log = LogTail.pump(process.getInputStream(), LOG_TAIL_BYTES);
      return new ProcessAttempt(
          spec, process, output, scratch, this::releaseScratch, log, started, startNanos, clock);
    } catch (IOException | RuntimeException e) {
      output.close();
      if (scratch != null) {
        releaseScratch(scratch);
      }
      throw e;
    }
  }

  private Path takeScratch() throws IOException {
    Path dir = idleScratch.poll();
    if (dir == null) {
      dir = scratchRoot.resolve(Long.toString(scratchNames.incrementAndGet()));
      Files.createDirectory(dir);
      if (scratchMode == null) {
        scratchMode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
      }
    }
    return dir;
  }

  /**
   * Keeps an attempt's working directory for a later attempt when the script left it as it found
   * it (empty, owner-only rights untouched), else removes it with whatever is in it.
   */
  private void releaseScratch(Path dir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      if (!entries.iterator().hasNext()
          && Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS).equals(scratchMode)) {
        idleScratch.add(dir);
        return;
      }
    } catch (IOException | RuntimeException e) {
      // Unreadable or gone: removed below.
    }
    FileTrees.deleteQuietly(dir);
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
