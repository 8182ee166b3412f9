package dev.grit.node.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real {@code grit} command line in a child JVM (the test's own classpath), as a user
 * would, and captures its exit code and output.
 */
public final class Grit {
  private final Path workDir;
  private final Map<String, String> env;
  private final List<String> jvmOptions;
  private final String classPath;

  public Grit(Path workDir, Map<String, String> env) {
    this(workDir, env, List.of(), System.getProperty("java.class.path"));
  }

  /** Starts each child JVM with {@code jvmOptions} too, and {@code classPath} as its class path. */
  public Grit(Path workDir, Map<String, String> env, List<String> jvmOptions, String classPath) {
    this.workDir = workDir;
    this.env = Map.copyOf(env);
    this.jvmOptions = List.copyOf(jvmOptions);
    this.classPath = classPath;
  }

  public record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** Starts grit without waiting for it; its output goes to temporary files in the work directory. */
  public Process start(String... args) throws IOException {
    return launch(args).process();
  }

  private record Launched(Process process, Path out, Path err) {}

  /** Starts grit without waiting for it, its output going to {@code out} and {@code err}. */
  public Process start(Path out, Path err, String... args) throws IOException {
    return launch(out, err, args).process();
  }

  private Launched launch(String... args) throws IOException {
    return launch(
        Files.createTempFile(workDir, "grit-out-", ".txt"),
        Files.createTempFile(workDir, "grit-err-", ".txt"),
        args);
  }

  private Launched launch(Path out, Path err, String... args) throws IOException {
    var cmd = new ArrayList<>(MainCommand.of(jvmOptions, classPath));
    cmd.addAll(List.of(args));
    var pb = new ProcessBuilder(cmd).directory(workDir.toFile());
    pb.environment().putAll(env);
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    return new Launched(pb.start(), out, err);
  }

  /** Runs grit to its end (at most two minutes). */
  public Result run(String... args) throws IOException, InterruptedException {
    Launched l = launch(args);
    if (!l.process().waitFor(120, TimeUnit.SECONDS)) {
      l.process().destroyForcibly();
      throw new AssertionError("grit " + String.join(" ", args) + " did not end in 120 s");
    }
    var result =
        new Result(
            l.process().exitValue(),
            Files.readString(l.out(), StandardCharsets.UTF_8),
            Files.readString(l.err(), StandardCharsets.UTF_8));
    Files.delete(l.out());
    Files.delete(l.err());
    return result;
  }
}
