package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.testing.JarredClassPath;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's training run writes an archive that a client command then loads its HTTP client
 * from, not only the classes of a run. Real child JVMs, as the launcher starts them.
 */
class ClassDataTrainingTest {
  @TempDir Path dir;

  @Test
  void theArchiveHoldsARunAndTheClientOfAServer() throws Exception {
    Path manifest = dir.resolve("workflow.toml");
    Files.writeString(
        manifest,
        """
        [[step]]
        name = "start"
        script = "echo hello > $OUTPUT_DIR/greeting"
        """);
    String classPath = JarredClassPath.of(dir);
    Path archive = dir.resolve("grit.jsa");

    String training =
        java(
            List.of("-XX:ArchiveClassesAtExit=" + archive, "-cp", classPath),
            ClassDataTraining.class.getName(),
            manifest.toString(),
            dir.resolve("db").toString());
    assertTrue(Files.size(archive) > 0, () -> "no archive written; the training said:\n" + training);

    // A client command started with the archive: its HTTP client comes from it.
    String loaded =
        java(
            List.of(
                "-XX:SharedArchiveFile=" + archive,
                "-Xlog:class+load=info",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classPath),
            Main.class.getName(),
            "list",
            "--server",
            "http://127.0.0.1:1");
    assertTrue(
        loaded.contains("jdk.internal.net.http.HttpClientImpl source: shared objects file"),
        () -> "the HTTP client was not loaded from the archive:\n" + tail(loaded));
    assertTrue(
        loaded.contains("dev.grit.node.cli.ListCommand source: shared objects file"),
        () -> "grit's own list command was not loaded from the archive:\n" + tail(loaded));
  }

  /** Runs a child JVM to its end (any exit code) and returns its stdout and stderr together. */
  private String java(List<String> options, String mainClass, String... args) throws Exception {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC");
    cmd.addAll(options);
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(dir, "java-", ".txt");
    Process p =
        new ProcessBuilder(cmd)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(mainClass + " did not end in 120 s");
    }
    String text = Files.readString(out, StandardCharsets.UTF_8);
    if (mainClass.equals(ClassDataTraining.class.getName())) {
      assertEquals(0, p.exitValue(), () -> "the training run failed:\n" + text);
    }
    return text;
  }

  private static String tail(String text) {
    return text.length() <= 4000 ? text : text.substring(text.length() - 4000);
  }
}
