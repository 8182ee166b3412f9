package dev.grit.node.work;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputFilesTest {
  @TempDir Path tmp;

  private static ByteArrayInputStream bytes(String s) {
    return new ByteArrayInputStream(s.getBytes());
  }

  /** From the mode bits: root may write whatever they say. */
  private static boolean writable(Path file) throws Exception {
    return Files.getPosixFilePermissions(file)
        .contains(java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
  }

  @Test
  void aSmallFileIsWrittenOverByALaterAttemptAndALargeOneDeleted() throws Exception {
    Files.createDirectories(tmp.resolve("inputs"));
    Files.writeString(tmp.resolve("inputs/left-by-an-earlier-process"), "x");
    var inputs = new InputFiles(tmp.resolve("inputs"));
    try (var left = Files.list(tmp.resolve("inputs"))) {
      assertEquals(0, left.count());
    }
    Path first = inputs.write(bytes("first, longer input"));
    assertEquals("first, longer input", Files.readString(first));
    assertFalse(writable(first));
    inputs.release(first);
    Path second = inputs.write(bytes("second"));
    assertEquals(first, second);
    assertEquals("second", Files.readString(second));
    assertFalse(writable(second));

    byte[] big = new byte[(int) InputFiles.KEEP_BYTES + 1];
    Path large = inputs.write(new ByteArrayInputStream(big));
    assertNotEquals(second, large);
    assertArrayEquals(big, Files.readAllBytes(large));
    inputs.release(large);
    assertFalse(Files.exists(large));
  }
}
