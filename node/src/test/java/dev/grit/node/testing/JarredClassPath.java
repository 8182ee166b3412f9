package dev.grit.node.testing;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;

/**
 * This test JVM's class path with each directory in it made a jar: the class path of a JVM that
 * writes or uses a class-data archive may hold jars only.
 */
public final class JarredClassPath {
  private JarredClassPath() {}

  /** Writes the jars into {@code dir} and returns the class path. */
  public static String of(Path dir) throws IOException, InterruptedException {
    var entries = new ArrayList<String>();
    String tool = Path.of(System.getProperty("java.home"), "bin", "jar").toString();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (!Files.isDirectory(Path.of(entry))) {
        entries.add(entry);
        continue;
      }
      Path jar = dir.resolve("classes-" + entries.size() + ".jar");
      Process p =
          new ProcessBuilder(tool, "--create", "--file", jar.toString(), "-C", entry, ".")
              .inheritIO()
              .start();
      if (p.waitFor() != 0) {
        throw new IOException("jar could not pack " + entry);
      }
      entries.add(jar.toString());
    }
    return String.join(File.pathSeparator, entries);
  }
}
