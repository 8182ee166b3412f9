package dev.grit.engine.execute;

import dev.grit.engine.object.ChunkingHasher;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Outputs captured in plain directories, {@code workDir/plain/<key>}, read after the script exits:
 * the fallback where FUSE cannot be mounted. Each file is read once more to hash it, and is its own
 * staging file.
 */
public final class PlainOutputDir implements OutputDir {
  private final Path root;

  private PlainOutputDir(Path root) {
    this.root = root;
  }

  /** Uses {@code workDir/plain}, removing whatever an earlier process left there. */
  public static PlainOutputDir create(Path workDir) throws IOException {
    Path root = workDir.resolve("plain");
    FileTrees.delete(root);
    Files.createDirectories(root);
    return new PlainOutputDir(root.toRealPath());
  }

  /** A plain directory is read once the script has exited: {@code listener} is never told. */
  @Override
  public AttemptOutput create(String key, ChunkListener listener) throws IOException {
    OutputDirs.checkKey(key);
    Path dir = root.resolve(key);
    Files.createDirectory(dir);
    return new Attempt(dir);
  }

  @Override
  public String kind() {
    return "plain";
  }

  @Override
  public void close() {
    FileTrees.deleteQuietly(root);
  }

  private static final class Attempt implements AttemptOutput {
    private final Path dir;

    Attempt(Path dir) {
      this.dir = dir;
    }

    @Override
    public Path path() {
      return dir;
    }

    /**
     * @throws IOException naming the first entry that is neither a regular file nor a directory (a
     *     symbolic link, a fifo, ...): such an output cannot become a resource
     */
    @Override
    public List<OutputFile> collect() throws IOException {
      List<OutputFile> files = new ArrayList<>();
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              String name = nameOf(file);
              if (!attrs.isRegularFile()) {
                String what = attrs.isSymbolicLink() ? "a symbolic link" : "a special file";
                throw new IOException(name + " is " + what + ", not a regular file");
              }
              files.add(OutputFile.staged(name, ChunkingHasher.layoutOf(file), file));
              return FileVisitResult.CONTINUE;
            }
          });
      files.sort(Comparator.comparing(OutputFile::name));
      return files;
    }

    private String nameOf(Path file) {
      StringBuilder name = new StringBuilder();
      for (Path part : dir.relativize(file)) {
        if (name.length() > 0) {
          name.append('/');
        }
        name.append(part);
      }
      return name.toString();
    }

    @Override
    public void close() {
      FileTrees.deleteQuietly(dir);
    }
  }
}
