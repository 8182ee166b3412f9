package dev.grit.engine.execute;

/**
 * An attempt whose script has been started by {@link TaskRunner#start}. Use it in a
 * try-with-resources block: read the outputs' bytes after {@link #await()}, then {@link
 * #close()}.
 *
 * <pre>{@code
 * try (RunningAttempt attempt = runner.start(spec)) {
 *   AttemptResult result = attempt.await();
 *   for (OutputFile file : result.outputs()) {
 *     store(file);
 *   }
 *   report(result);
 * }
 * }</pre>
 *
 * <p>{@link #cancel()} and {@link #log()} may be called from any thread; the other methods by the attempt's owner.
 */
public interface RunningAttempt extends AutoCloseable {

  /** What this attempt runs. */
  AttemptSpec spec();

  /** The script's output so far, readable from any thread while it runs (and after). */
  LogTail log();

  /**
   * Waits until the script has exited (or has been killed for its timeout or by {@link #cancel()}),
   * kills whatever its process group left running, and returns how it ended. On success the outputs
   * are collected and their bytes stay readable until {@link #close()}. Later calls return
   * the same result at once.
   *
   * @throws InterruptedException the script keeps running; {@link #close()} stops it
   */
  AttemptResult await() throws InterruptedException;

  /**
   * Kills the script's whole process group. Unless {@link #await()} has already returned, the
   * result is then a failure with the error "cancelled". Does nothing after the end.
   */
  void cancel();

  /**
   * Releases everything the attempt holds: kills the process group if it still runs, deletes the
   * output directory with its staging files, the scratch directory and the log. Idempotent.
   */
  @Override
  void close();
}
