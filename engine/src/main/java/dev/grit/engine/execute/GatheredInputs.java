package dev.grit.engine.execute;

import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a gather task's script reads: {@code $INPUT_DIR}, a read-only directory holding every input
 * under its resource name ({@code counts/chunk_1} in a sub-directory {@code counts}), and {@code
 * $INPUT_LIST}, a file with a line {@code name<TAB>sha256<TAB>path} per input, sorted by name and
 * then by hash, {@code path} being where the input is under {@code $INPUT_DIR}.
 *
 * <p>A name that cannot be a file of its own there is placed as {@code name@sha256} instead: two
 * inputs of one name (different bytes), or a name another input needs as a directory ({@code a}
 * beside {@code a/b}). In the list, a backslash, tab or newline within a name or path is written
 * {@code \\}, {@code \t} or {@code \n}.
 *
 * <p>How the bytes get there is the caller's {@link Placer}: a hard link to a shared copy where the
 * file system allows it, so a gather over many inputs does not copy them per attempt. Closing
 * removes the directory and the list.
 */
public final class GatheredInputs implements AutoCloseable {
  /** One input of the set: a resource's name and the digest of its bytes. */
  public record Input(String name, Digest hash) {}

  /** Puts an input's bytes at {@code target} (whose directory exists) as a read-only file. */
  @FunctionalInterface
  public interface Placer {
    void place(Input input, Path target) throws IOException;
  }

  private static final Comparator<Input> ORDER =
      Comparator.comparing(Input::name).thenComparing(Input::hash);

  private final Path dir;
  private final Path list;

  private GatheredInputs(Path dir, Path list) {
    this.dir = dir;
    this.list = list;
  }

  /**
   * Builds {@code root/key} and {@code root/key.list} for {@code inputs}, replacing what an earlier
   * process left under those names. Nothing is left behind when it fails.
   */
  public static GatheredInputs prepare(Path root, String key, List<Input> inputs, Placer placer)
      throws IOException {
    var sorted = new ArrayList<>(inputs);
    sorted.sort(ORDER);
    List<String> paths = paths(sorted);
    var prepared = new GatheredInputs(root.resolve(key), root.resolve(key + ".list"));
    try {
      prepared.removeFiles();
      Files.createDirectories(prepared.dir);
      var lines = new StringBuilder();
      for (int i = 0; i < sorted.size(); i++) {
        Input input = sorted.get(i);
        Path target = prepared.dir.resolve(paths.get(i)).normalize();
        if (!target.startsWith(prepared.dir) || target.equals(prepared.dir)) {
          throw new IOException("input name " + input.name() + " leaves the input directory");
        }
        Files.createDirectories(target.getParent());
        placer.place(input, target);
        lines
            .append(escape(input.name()))
            .append('\t')
            .append(input.hash())
            .append('\t')
            .append(escape(target.toString()))
            .append('\n');
      }
      Files.writeString(prepared.list, lines, StandardCharsets.UTF_8);
      prepared.list.toFile().setReadOnly();
      readOnlyDirectories(prepared.dir);
      return prepared;
    } catch (IOException | RuntimeException e) {
      prepared.close();
      throw e;
    }
  }

  /**
   * Where each input goes under the directory, relative to it, for inputs sorted by name and hash:
   * its name, or {@code name@sha256} for a name that is repeated or that another input needs as a
   * directory. An {@link IOException} when even that collides (a resource named after another's
   * {@code name@sha256}).
   */
  static List<String> paths(List<Input> sorted) throws IOException {
    Map<String, Integer> perName = new HashMap<>();
    Set<String> directories = new HashSet<>();
    for (Input in : sorted) {
      perName.merge(in.name(), 1, Integer::sum);
      directories.addAll(parents(in.name()));
    }
    var paths = new ArrayList<String>();
    for (Input in : sorted) {
      boolean own = perName.get(in.name()) == 1 && !directories.contains(in.name());
      paths.add(own ? in.name() : in.name() + "@" + in.hash());
    }
    var taken = new HashSet<String>();
    var dirs = new HashSet<String>();
    for (String p : paths) {
      dirs.addAll(parents(p));
    }
    for (int i = 0; i < paths.size(); i++) {
      String p = paths.get(i);
      if (!taken.add(p) || dirs.contains(p)) {
        throw new IOException(
            "input " + sorted.get(i).name() + " cannot be placed: " + p + " is taken by another");
      }
    }
    return paths;
  }

  /** The directory prefixes of a /-separated name: a/b/c gives a and a/b. */
  private static List<String> parents(String name) {
    var out = new ArrayList<String>();
    for (int at = name.indexOf('/'); at > 0; at = name.indexOf('/', at + 1)) {
      out.add(name.substring(0, at));
    }
    return out;
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
  }

  /** Directories readable and enterable, not writable: a script cannot add or remove inputs. */
  private static void readOnlyDirectories(Path root) throws IOException {
    var readOnly = PosixFilePermissions.fromString("r-xr-xr-x");
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.setPosixFilePermissions(d, readOnly);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** {@code $INPUT_DIR}. */
  public Path dir() {
    return dir;
  }

  /** {@code $INPUT_LIST}. */
  public Path list() {
    return list;
  }

  private void removeFiles() throws IOException {
    FileTrees.delete(dir);
    Files.deleteIfExists(list);
  }

  /** Removes the directory (links only: the shared copies stay) and the list. */
  @Override
  public void close() {
    FileTrees.deleteQuietly(dir);
    try {
      Files.deleteIfExists(list);
    } catch (IOException e) {
      // left for the next process, which clears the inputs directory
    }
  }
}
