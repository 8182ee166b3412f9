package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The choice between FUSE and plain output directories, behind {@link OutputDir#open}. */
final class OutputDirs {
  private static final Logger log = LoggerFactory.getLogger(OutputDirs.class);

  /** A node falls back once; a process opening more (tests) need not hear it again. */
  private static final AtomicBoolean fallbackLogged = new AtomicBoolean();

  private OutputDirs() {}

  static OutputDir open(Path workDir, OutputMode mode) throws IOException {
    switch (mode) {
      case PLAIN:
        return PlainOutputDir.create(workDir);
      case FUSE:
        return FuseOutputDir.mount(workDir);
      default:
        try {
          return FuseOutputDir.mount(workDir);
        } catch (IOException e) {
          if (fallbackLogged.compareAndSet(false, true)) {
            log.warn(fallbackMessage(e.getMessage()));
          } else {
            log.debug("FUSE unavailable ({})", e.getMessage());
          }
          return PlainOutputDir.create(workDir);
        }
    }
  }

  /**
   * The one line a node logs when it falls back: why, what it does instead, and how to enable
   * FUSE. A plain directory works, but each output is read once more to hash it.
   */
  static String fallbackMessage(String reason) {
    return "outputs are captured in plain directories, not FUSE ("
        + FuseOutputDir.firstLine(String.valueOf(reason))
        + "); to capture them as they are written: apt-get install libfuse2 fuse3, and let the"
        + " node mount (/dev/fuse, and root or CAP_SYS_ADMIN in a container)";
  }

  /** An attempt key names one directory: no separators, nothing special. */
  static void checkKey(String key) {
    if (key.isEmpty()
        || key.equals(".")
        || key.equals("..")
        || key.indexOf('/') >= 0
        || key.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("not a valid attempt key: \"" + key + "\"");
    }
  }
}
