package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDirSelectionTest {
  @TempDir Path tmp;

  @AfterEach
  void clearProperty() {
    System.clearProperty(OutputMode.PROPERTY);
  }

  @Test
  void thePropertyForcesPlain() throws Exception {
    System.setProperty(OutputMode.PROPERTY, "plain");
    try (OutputDir outputs = OutputDir.open(tmp)) {
      assertEquals("plain", outputs.kind());
      try (AttemptOutput attempt = outputs.create("1-1")) {
        assertEquals(tmp.toRealPath().resolve("plain/1-1"), attempt.path());
      }
    }
  }

  @Test
  void byDefaultFuseWhenItMounts() throws Exception {
    assumeTrue(fuseMounts(), "FUSE cannot be mounted here");
    try (OutputDir outputs = OutputDir.open(tmp.resolve("auto"), OutputMode.AUTO)) {
      assertEquals("fuse", outputs.kind());
    }
  }

  @Test
  void autoFallsBackToPlainWhenTheMountFails() throws Exception {
    // A file where the mount point should be: no mount can happen there.
    Files.writeString(tmp.resolve("mnt"), "in the way");
    try (OutputDir outputs = OutputDir.open(tmp, OutputMode.AUTO)) {
      assertEquals("plain", outputs.kind());
    }
  }

  @Test
  void aMissingLibfuseIsSaidInOneLineWithHowToInstallItNotTheLoadersSearchPath() {
    // What jnr-ffi throws without libfuse: every directory it searched, over several lines.
    var loaderError =
        new UnsatisfiedLinkError(
            "could not load FFI provider jnr.ffi.provider.jffi.Provider\n"
                + "library names: [fuse, libfuse.so.2]\n"
                + "search paths: [/usr/lib, /lib, /usr/lib/x86_64-linux-gnu, /opt/lib]");
    String reason = FuseOutputDir.unavailableReason(loaderError);
    assertEquals("libfuse.so.2 is not installed", reason);
    String line = OutputDirs.fallbackMessage(reason);
    assertEquals(
        "outputs are captured in plain directories, not FUSE (libfuse.so.2 is not installed);"
            + " to capture them as they are written: apt-get install libfuse2 fuse3, and let the"
            + " node mount (/dev/fuse, and root or CAP_SYS_ADMIN in a container)",
        line);
    String other = OutputDirs.fallbackMessage("mount failed\nsearch paths: [/usr/lib]");
    assertEquals(1, other.lines().count(), other);
    assertFalse(other.contains("search paths"), other);
  }

  @Test
  void forcedFuseFailsLoudly() throws Exception {
    Files.writeString(tmp.resolve("mnt"), "in the way");
    System.setProperty(OutputMode.PROPERTY, "fuse");
    assertThrows(IOException.class, () -> OutputDir.open(tmp));
  }

  @Test
  void modesAreParsedStrictly() {
    assertEquals(OutputMode.PLAIN, OutputMode.parse(" Plain "));
    assertEquals(OutputMode.FUSE, OutputMode.parse("fuse"));
    assertEquals(OutputMode.AUTO, OutputMode.parse("auto"));
    assertThrows(IllegalArgumentException.class, () -> OutputMode.parse("fast"));
    System.setProperty(OutputMode.PROPERTY, "fast");
    var e = assertThrows(IllegalArgumentException.class, OutputMode::fromEnvironment);
    assertEquals(
        "grit.output: the output mode is auto, fuse or plain, not \"fast\"", e.getMessage());
  }

  private boolean fuseMounts() {
    try {
      FuseOutputDir.mount(tmp.resolve("probe")).close();
      return true;
    } catch (IOException e) {
      System.out.println("FUSE cannot be mounted: " + e.getMessage());
      return false;
    }
  }
}
