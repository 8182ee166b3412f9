package dev.grit.engine.execute;

import java.io.IOException;

/**
 * Where attempts write their outputs: one instance per node process, one sub-directory per
 * attempt. Implementations: {@link FuseOutputDir} (a FUSE mount that streams each written file
 * to a staging file while hashing it) and {@link PlainOutputDir} (a plain directory scanned after
 * the script exits). {@link #open()} chooses: FUSE when it can be mounted, else plain.
 *
 * <p>Thread-safe: attempts open and collect their directories concurrently.
 */
public interface OutputDir extends AutoCloseable {

  /** Creates the empty output directory of one attempt; {@code key} is unique per attempt. */
  AttemptOutput create(String key) throws IOException;

  /** "fuse" or "plain", for messages and metrics. */
  String kind();

  /** Unmounts or removes everything; attempts still open lose their outputs. */
  @Override
  void close();
}
