package dev.grit.engine.execute;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Removal of the directories attempts leave behind. */
public final class FileTrees {
  private static final Logger log = LoggerFactory.getLogger(FileTrees.class);

  private FileTrees() {}

  /**
   * Deletes {@code root} and everything below it, never following symbolic links. A script may have
   * left a directory without write permission: it is made writable first.
   */
  public static void delete(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            try {
              Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
              if (perms.add(PosixFilePermission.OWNER_WRITE)
                  | perms.add(PosixFilePermission.OWNER_EXECUTE)
                  | perms.add(PosixFilePermission.OWNER_READ)) {
                Files.setPosixFilePermissions(dir, perms);
              }
            } catch (UnsupportedOperationException e) {
              // Not a POSIX file system: nothing to repair.
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            Files.deleteIfExists(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** {@link #delete}, logging instead of throwing: for clean-up that must not fail an attempt. */
  public static void deleteQuietly(Path root) {
    try {
      delete(root);
    } catch (IOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }
}
