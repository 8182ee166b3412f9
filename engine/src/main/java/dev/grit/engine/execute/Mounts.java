package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Whether a path is a mount point, from {@code /proc/self/mountinfo}. */
final class Mounts {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private Mounts() {}

  /** True when {@code mountPoint} (an absolute path without symbolic links) is mounted. */
  static boolean isMounted(Path mountPoint) throws IOException {
    String wanted = escape(mountPoint.toString());
    for (String line : Files.readAllLines(MOUNTINFO)) {
      // Fields: mount id, parent id, major:minor, root, mount point, ...
      String[] fields = line.split(" ", 6);
      if (fields.length > 4 && fields[4].equals(wanted)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Waits until {@code mountPoint} is (or is no longer) mounted, polling every few milliseconds.
   *
   * @param giveUp checked on each poll: true ends the wait early (say, the mount thread died)
   * @return true when the state was reached, false on timeout or when {@code giveUp} said so
   */
  static boolean await(Path mountPoint, boolean mounted, Duration timeout, BooleanSupplier giveUp)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (isMounted(mountPoint) != mounted) {
      if (giveUp.getAsBoolean() || System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(2);
    }
    return true;
  }

  /** The octal escapes the kernel uses for blanks and backslashes in mountinfo. */
  private static String escape(String path) {
    StringBuilder b = new StringBuilder(path.length());
    for (char c : path.toCharArray()) {
      switch (c) {
        case ' ' -> b.append("\\040");
        case '\t' -> b.append("\\011");
        case '\n' -> b.append("\\012");
        case '\\' -> b.append("\\134");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
