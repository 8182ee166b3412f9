package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A script running as the leader of its own process group (see {@link TaskRunner}). */
final class ProcessAttempt implements RunningAttempt {
  /** How long a timed-out script may handle SIGTERM before its group gets SIGKILL. */
  static final Duration KILL_GRACE = Duration.ofSeconds(2);

  /** How long to wait for killed processes to vanish before collecting outputs anyway. */
  private static final long REAP_WAIT_MILLIS = 1000;

  private final AttemptSpec spec;
  private final Process process;
  private final AttemptOutput output;
  private final Path scratch;
  private final Consumer<Path> releaseScratch;
  private final LogTail log;
  private final Instant started;
  private final long startNanos;
  private final InstantSource clock;

  private final Object awaiting = new Object();
  private volatile boolean cancelled;
  private volatile AttemptResult result;
  private volatile boolean closed;

  ProcessAttempt(
      AttemptSpec spec,
      Process process,
      AttemptOutput output,
      Path scratch,
      Consumer<Path> releaseScratch,
      LogTail log,
      Instant started,
      long startNanos,
      InstantSource clock) {
    this.spec = spec;
    this.process = process;
    this.output = output;
    this.scratch = scratch;
    this.releaseScratch = releaseScratch;
    this.log = log;
    this.started = started;
    this.startNanos = startNanos;
    this.clock = clock;
  }

  @Override
  public AttemptSpec spec() {
    return spec;
  }

  @Override
  public LogTail log() {
    return log;
  }

  @Override
  public AttemptResult await() throws InterruptedException {
    synchronized (awaiting) {
      if (result == null) {
        if (closed) {
          throw new IllegalStateException("attempt " + spec.key() + " is closed");
        }
        result = finish();
      }
      return result;
    }
  }

  private AttemptResult finish() throws InterruptedException {
    boolean timedOut = !waitWithinTimeout();
    Instant finished = clock.instant();
    // After a normal exit too: background children must not write on while outputs are read.
    ProcessGroups.killAll(process.pid(), REAP_WAIT_MILLIS);
    // The group is gone: the pipe ends unless a process that left the group still holds it.
    byte[] logTail = log.await(REAP_WAIT_MILLIS);
    int exitCode = process.exitValue();
    if (cancelled) {
      return failed(-1, "cancelled", logTail, finished);
    }
    if (timedOut) {
      return failed(-1, "timed out after " + TaskRunner.format(spec.timeout()), logTail, finished);
    }
    if (exitCode != 0) {
      return failed(exitCode, "exit status " + exitCode, logTail, finished);
    }
    List<OutputFile> outputs;
    try {
      outputs = output.collect();
    } catch (IOException | RuntimeException e) {
      return failed(0, "outputs could not be collected: " + e.getMessage(), logTail, finished);
    }
    return new AttemptResult(0, null, outputs, logTail, started, finished);
  }

  private AttemptResult failed(int exitCode, String error, byte[] logTail, Instant finished) {
    return new AttemptResult(exitCode, error, List.of(), logTail, started, finished);
  }

  /** Waits for the script; past its timeout, TERM then KILL its group. False when it timed out. */
  private boolean waitWithinTimeout() throws InterruptedException {
    if (spec.timeout().isZero() || spec.timeout().isNegative()) {
      process.waitFor();
      return true;
    }
    long remaining = spec.timeout().toNanos() - (System.nanoTime() - startNanos);
    if (process.waitFor(Math.max(0, remaining), TimeUnit.NANOSECONDS)) {
      return true;
    }
    ProcessGroups.signal(process.pid(), ProcessGroups.SIGTERM);
    if (!process.waitFor(KILL_GRACE.toNanos(), TimeUnit.NANOSECONDS)) {
      ProcessGroups.signal(process.pid(), ProcessGroups.SIGKILL);
      process.waitFor();
    }
    return false;
  }

  @Override
  public void cancel() {
    cancelled = true;
    if (process.isAlive()) {
      ProcessGroups.signal(process.pid(), ProcessGroups.SIGKILL);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (result == null) {
      // Nobody awaited the end: whatever still runs (the script or what it left) is stopped.
      cancelled = true;
      try {
        ProcessGroups.killAll(process.pid(), REAP_WAIT_MILLIS);
        process.waitFor(REAP_WAIT_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    output.close();
    releaseScratch.accept(scratch);
  }
}
