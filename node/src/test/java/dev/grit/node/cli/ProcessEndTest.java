package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.testing.Grit;
import dev.grit.node.testing.JarredClassPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit run} ends its process at once once its node is closed, except when the JVM was asked
 * to do work of its own at exit: then that work is done. Each case is a real child JVM.
 */
class ProcessEndTest {
  @TempDir Path dir;

  private static final String MANIFEST =
      """
      [[step]]
      name = "start"
      script = "echo hello > $OUTPUT_DIR/greeting"
      """;

  private Grit.Result run(List<String> jvmOptions, String classPath) throws Exception {
    Path manifest = dir.resolve("workflow.toml");
    Files.writeString(manifest, MANIFEST);
    var grit = new Grit(dir, Map.of("GRIT_OUTPUT", "plain"), jvmOptions, classPath);
    Grit.Result r = grit.run("run", manifest.toString(), "--db", "db");
    assertEquals(0, r.exit(), r::toString);
    assertTrue(r.out().contains("succeeded"), r::toString);
    return r;
  }

  @Test
  void nativeLibrariesExtractedForTheRunAreDeletedAtExit() throws Exception {
    // Without the launcher's cache of native libraries, RocksDB and SQLite extract theirs into the
    // temporary directory for the JVM to delete when it exits.
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    run(List.of("-Djava.io.tmpdir=" + tmp), System.getProperty("java.class.path"));
    try (var left = Files.list(tmp)) {
      var libraries = left.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".so")).toList();
      assertTrue(libraries.isEmpty(), "left behind: " + libraries);
    }
  }

  @Test
  void aFlightRecordingIsStillDumpedAtExit() throws Exception {
    Path recording = dir.resolve("run.jfr");
    run(
        List.of("-XX:StartFlightRecording=dumponexit=true,filename=" + recording),
        System.getProperty("java.class.path"));
    assertTrue(Files.size(recording) > 0, "no flight recording written at exit");
  }

  @Test
  void aClassDataArchiveIsStillWrittenAtExit() throws Exception {
    Path archive = dir.resolve("classes.jsa");
    run(List.of("-XX:ArchiveClassesAtExit=" + archive), JarredClassPath.of(dir));
    assertTrue(Files.size(archive) > 0, "no class-data archive written at exit");
  }
}
