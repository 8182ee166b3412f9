package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** The output directory of one attempt. Not thread-safe: one attempt, one owner. */
public interface AttemptOutput extends AutoCloseable {

  /** The directory handed to the script as {@code OUTPUT_DIR}. */
  Path path();

  /**
   * After the script has exited: every regular file under {@link #path()}, by its name relative to
   * it ({@code /}-separated, e.g. {@code parts/001}), sorted by name. Empty files are included;
   * directories are not outputs. Each has its layout (digest, size, chunk digests) and its bytes
   * (a staging file, or held in memory) which stay readable until {@link #close()}. The directory may become read-only.
   *
   * @throws IOException when an entry cannot be an output (a symbolic link, a special file) or a
   *     file cannot be read
   */
  List<OutputFile> collect() throws IOException;

  /** Removes the directory and what holds the outputs' bytes. */
  @Override
  void close();
}
