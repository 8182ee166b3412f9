package dev.grit.consensus.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A tmpfs of a few megabytes mounted for one test, so that a disk really fills up. Mounting needs
 * root: elsewhere the test is skipped with the reason.
 */
public final class SmallDisk implements AutoCloseable {
  private final Path path;

  private SmallDisk(Path path) {
    this.path = path;
  }

  /** Mounts a tmpfs of {@code size} (as mount takes it: "4m") at {@code dir}. */
  public static SmallDisk mount(Path dir, String size) throws IOException, InterruptedException {
    assumeTrue(
        Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")),
        "mounting a small disk needs root");
    Files.createDirectories(dir);
    var mount =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString())
            .redirectErrorStream(true)
            .start();
    String said = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assumeTrue(mount.waitFor() == 0, () -> "cannot mount a tmpfs: " + said.trim());
    return new SmallDisk(dir.toRealPath());
  }

  public Path path() {
    return path;
  }

  public long free() throws IOException {
    return Files.getFileStore(path).getUsableSpace();
  }

  /**
   * Unmounts, waiting first for the mounts inside it to go (a stopped node's FUSE mount is taken
   * down by its helper a moment later) and then for whatever still holds it to let go.
   */
  @Override
  public void close() {
    String inside = " " + path + "/";
    Wait.until(
        "the mounts inside the small disk to go",
        Duration.ofSeconds(30),
        () -> {
          try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .noneMatch(line -> line.contains(inside));
          } catch (IOException e) {
            return true;
          }
        });
    String[] said = {""};
    Wait.until(
        "the small disk to be unmounted",
        Duration.ofSeconds(30),
        () -> {
          try {
            var umount =
                new ProcessBuilder("umount", path.toString()).redirectErrorStream(true).start();
            said[0] = new String(umount.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return umount.waitFor() == 0;
          } catch (IOException e) {
            said[0] = e.toString();
            return false;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        },
        () -> "umount: " + said[0]);
  }
}
