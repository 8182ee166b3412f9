package dev.grit.node.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line that runs grit's {@code Main} in a JVM of its own, as the tests start it. */
public final class MainCommand {
  private MainCommand() {}

  /**
   * {@code java}, the tests' JVM options, {@code jvmOptions}, the class path and {@code Main}; the
   * caller appends grit's arguments. C1 alone: a test's JVM ends before C2 would pay for itself.
   */
  public static List<String> of(List<String> jvmOptions, String classPath) {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(classPath);
    cmd.add("dev.grit.node.cli.Main");
    return cmd;
  }

  /** The same, with this JVM's class path. */
  public static List<String> of(List<String> jvmOptions) {
    return of(jvmOptions, System.getProperty("java.class.path"));
  }
}
