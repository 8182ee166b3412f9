package dev.grit.engine.execute;

import java.time.Instant;
import java.util.List;

/**
 * How one attempt ended.
 *
 * @param exitCode the script's exit status; -1 when it did not exit by itself (timeout, kill)
 * @param error null on success; else why it failed, in words ("exit status 3", "timed out after
 *     10s", "cancelled", "outputs could not be collected: ...")
 * @param outputs the files it wrote; empty unless it succeeded
 * @param logTail the last bytes of its combined stdout and stderr (bounded, see {@link
 *     TaskRunner#LOG_TAIL_BYTES})
 */
public record AttemptResult(
    int exitCode,
    String error,
    List<OutputFile> outputs,
    byte[] logTail,
    Instant started,
    Instant finished) {

  public AttemptResult {
    outputs = List.copyOf(outputs);
  }

  public boolean succeeded() {
    return error == null;
  }
}
