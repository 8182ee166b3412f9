package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where attempts write their outputs: one instance per node process, one sub-directory per attempt.
 * Implementations: {@link FuseOutputDir} (a FUSE mount that streams each written file to a staging
 * file while hashing it) and {@link PlainOutputDir} (a plain directory scanned after the script
 * exits). {@link #open(Path)} chooses: FUSE when it can be mounted, else plain.
 *
 * <p>Thread-safe: attempts open and collect their directories concurrently.
 */
public interface OutputDir extends AutoCloseable {

  /**
   * Opens the output directory of this node under {@code workDir}, in the mode that {@link
   * OutputMode#fromEnvironment()} asks for: by default FUSE when it can be mounted, else a plain
   * directory, saying why in the log (once).
   *
   * @throws IOException when the directory cannot be created, or FUSE is required and cannot be
   *     mounted
   */
  static OutputDir open(Path workDir) throws IOException {
    return open(workDir, OutputMode.fromEnvironment());
  }

  /** Opens the output directory of this node under {@code workDir} in the given mode. */
  static OutputDir open(Path workDir, OutputMode mode) throws IOException {
    return OutputDirs.open(workDir, mode);
  }

  /**
   * Creates the empty output directory of one attempt.
   *
   * @param key unique per attempt and safe as a file name (see {@link AttemptSpec#key()})
   * @throws IOException when the directory cannot be created or {@code key} is in use
   */
  default AttemptOutput create(String key) throws IOException {
    return create(key, ChunkListener.NONE);
  }

  /**
   * As {@link #create(String)}, telling {@code listener} of each whole chunk of an output as it is
   * written, where the directory can tell (FUSE).
   */
  AttemptOutput create(String key, ChunkListener listener) throws IOException;

  /** "fuse" or "plain", for messages and metrics. */
  String kind();

  /** Unmounts or removes everything; attempts still open lose their outputs. */
  @Override
  void close();
}
