package dev.grit.engine.execute;

import dev.grit.engine.execute.FsNode.Dir;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import ru.serce.jnrfuse.struct.FileStat;

/**
 * What one attempt wrote through FUSE: a tree of directories and {@link StagedFile}s whose bytes
 * are held in memory or in staging files, both from {@link StagingFiles}, side by side with those
 * of other attempts (a directory per attempt would cost every attempt one more to create and
 * remove).
 *
 * <p>Every method holds this attempt's lock, so concurrent attempts never wait for each other.
 * Paths are relative to the attempt directory: {@code ""} is the directory itself, {@code /a/b} a
 * file below it. Refusals are {@link FsError}s carrying the errno the script sees.
 *
 * <p>{@link #collect()} seals the tree: from then on it is read-only, so the layouts handed out
 * keep describing the bytes even if a dying process's last write arrives late.
 */
final class AttemptTree {
  private static final int O_ACCMODE = 03;
  private static final int O_RDONLY = 0;
  private static final int O_EXCL = 0200;

  final String key;
  private final StagingFiles staging;
  private final ChunkListener listener;
  private final Dir root = new Dir(0755);

  /** Files whose staging file is open, including unlinked ones: closed with the attempt. */
  private final Set<StagedFile> openFiles = new HashSet<>();

  /** Every file made for this attempt: what it holds is given back with the attempt. */
  private final List<StagedFile> created = new ArrayList<>();

  private boolean sealed;
  private boolean closed;

  /**
   * @param staging where the staging files come from and go back to
   * @param listener told of each whole chunk of an output written front to back
   */
  AttemptTree(String key, StagingFiles staging, ChunkListener listener) {
    this.key = key;
    this.staging = staging;
    this.listener = listener;
  }

  synchronized void getattr(String rel, FileStat stat, int uid, int gid) throws FsError {
    lookup(rel).fill(stat, uid, gid);
  }

  synchronized void fgetattr(StagedFile file, FileStat stat, int uid, int gid) throws FsError {
    live();
    file.fill(stat, uid, gid);
  }

  /** The names in a directory, in order. */
  synchronized List<String> list(String rel) throws FsError {
    return new ArrayList<>(dir(rel).children.keySet());
  }

  synchronized void mkdir(String rel, long mode) throws FsError {
    writable();
    Dir parent = parentOf(rel);
    String name = nameOf(rel);
    if (parent.children.containsKey(name)) {
      throw new FsError(Errno.EEXIST);
    }
    parent.children.put(name, new Dir((int) mode));
    parent.touch();
  }

  /** Creates (or, without {@code O_EXCL}, opens) a regular file; it is returned open. */
  synchronized StagedFile create(String rel, long mode, int flags) throws FsError {
    writable();
    Dir parent = parentOf(rel);
    String name = nameOf(rel);
    FsNode existing = parent.children.get(name);
    if (existing != null) {
      if ((flags & O_EXCL) != 0) {
        throw new FsError(Errno.EEXIST);
      }
      if (!(existing instanceof StagedFile file)) {
        throw new FsError(Errno.EISDIR);
      }
      openFile(file);
      return file;
    }
    StagedFile file = new StagedFile(staging, (int) mode, listener);
    created.add(file);
    openFiles.add(file);
    parent.children.put(name, file);
    parent.touch();
    return file;
  }

  synchronized StagedFile open(String rel, int flags) throws FsError {
    if ((flags & O_ACCMODE) != O_RDONLY) {
      writable();
    } else {
      live();
    }
    if (!(lookup(rel) instanceof StagedFile file)) {
      throw new FsError(Errno.EISDIR);
    }
    openFile(file);
    return file;
  }

  private void openFile(StagedFile file) throws FsError {
    try {
      file.open();
    } catch (IOException e) {
      throw new FsError(Errno.of(e));
    }
    openFiles.add(file);
  }

  synchronized void release(StagedFile file) {
    if (closed) {
      return;
    }
    try {
      file.release();
    } catch (IOException e) {
      // The script has closed the file already; a failed close of the staging file only leaks
      // until the attempt's staging directory is removed.
    }
    if (!file.isOpen()) {
      openFiles.remove(file);
    }
  }

  synchronized int read(StagedFile file, byte[] into, int length, long offset) throws FsError {
    live();
    try {
      return file.read(into, length, offset);
    } catch (IOException e) {
      throw new FsError(Errno.of(e));
    }
  }

  synchronized void write(StagedFile file, byte[] data, int length, long offset) throws FsError {
    writable();
    try {
      file.write(data, length, offset);
    } catch (IOException e) {
      throw new FsError(Errno.of(e));
    }
  }

  synchronized void truncate(String rel, long size) throws FsError {
    writable();
    if (!(lookup(rel) instanceof StagedFile file)) {
      throw new FsError(Errno.EISDIR);
    }
    resize(file, size);
  }

  synchronized void ftruncate(StagedFile file, long size) throws FsError {
    writable();
    resize(file, size);
  }

  private static void resize(StagedFile file, long size) throws FsError {
    if (size < 0) {
      throw new FsError(Errno.EINVAL);
    }
    try {
      file.resize(size);
    } catch (IOException e) {
      throw new FsError(Errno.of(e));
    }
  }

  synchronized void unlink(String rel) throws FsError {
    writable();
    if (rel.isEmpty()) {
      throw new FsError(Errno.EISDIR);
    }
    Dir parent = parentOf(rel);
    String name = nameOf(rel);
    FsNode node = parent.children.get(name);
    if (node == null) {
      throw new FsError(Errno.ENOENT);
    }
    if (!(node instanceof StagedFile file)) {
      throw new FsError(Errno.EISDIR);
    }
    parent.children.remove(name);
    parent.touch();
    unlinkFile(file);
  }

  private static void unlinkFile(StagedFile file) throws FsError {
    try {
      file.unlink();
    } catch (IOException e) {
      throw new FsError(Errno.of(e));
    }
  }

  synchronized void rmdir(String rel) throws FsError {
    writable();
    if (rel.isEmpty()) {
      throw new FsError(Errno.EBUSY);
    }
    Dir parent = parentOf(rel);
    String name = nameOf(rel);
    FsNode node = parent.children.get(name);
    if (node == null) {
      throw new FsError(Errno.ENOENT);
    }
    if (!(node instanceof Dir dir)) {
      throw new FsError(Errno.ENOTDIR);
    }
    if (!dir.children.isEmpty()) {
      throw new FsError(Errno.ENOTEMPTY);
    }
    parent.children.remove(name);
    parent.touch();
  }

  /** POSIX rename within this attempt: an existing file at {@code to} is replaced. */
  synchronized void rename(String from, String to) throws FsError {
    writable();
    if (from.isEmpty() || to.isEmpty()) {
      throw new FsError(Errno.EBUSY);
    }
    if (to.startsWith(from + "/")) {
      throw new FsError(Errno.EINVAL);
    }
    Dir fromParent = parentOf(from);
    String fromName = nameOf(from);
    FsNode node = fromParent.children.get(fromName);
    if (node == null) {
      throw new FsError(Errno.ENOENT);
    }
    Dir toParent = parentOf(to);
    String toName = nameOf(to);
    FsNode existing = toParent.children.get(toName);
    if (existing == node) {
      return;
    }
    if (existing != null) {
      if (node instanceof Dir) {
        if (!(existing instanceof Dir target)) {
          throw new FsError(Errno.ENOTDIR);
        }
        if (!target.children.isEmpty()) {
          throw new FsError(Errno.ENOTEMPTY);
        }
      } else if (existing instanceof Dir) {
        throw new FsError(Errno.EISDIR);
      } else {
        unlinkFile((StagedFile) existing);
      }
    }
    fromParent.children.remove(fromName);
    toParent.children.put(toName, node);
    fromParent.touch();
    toParent.touch();
    node.ctimeNanos = FsNode.now();
  }

  synchronized void chmod(String rel, long mode) throws FsError {
    writable();
    FsNode node = lookup(rel);
    node.mode = (int) mode & 07777;
    node.ctimeNanos = FsNode.now();
  }

  /** Sets the modification time; a negative value leaves it as it is. */
  synchronized void setMtime(String rel, long mtimeNanos) throws FsError {
    writable();
    FsNode node = lookup(rel);
    if (mtimeNanos >= 0) {
      node.mtimeNanos = mtimeNanos;
    }
    node.ctimeNanos = FsNode.now();
  }

  /** Fails with ENOENT unless {@code rel} exists: for calls accepted without changing anything. */
  synchronized void check(String rel) throws FsError {
    lookup(rel);
  }

  /**
   * Every regular file, by its {@code /}-separated name, sorted by name; seals the tree (see the
   * class comment).
   */
  synchronized List<OutputFile> collect() throws IOException {
    if (closed) {
      throw new IOException("the output directory of attempt " + key + " is closed");
    }
    sealed = true;
    List<OutputFile> files = new ArrayList<>();
    collect(root, "", files);
    files.sort(Comparator.comparing(OutputFile::name));
    return files;
  }

  private static void collect(Dir dir, String prefix, List<OutputFile> into) throws IOException {
    for (var entry : dir.children.entrySet()) {
      String name = prefix + entry.getKey();
      if (entry.getValue() instanceof StagedFile file) {
        byte[] held = file.heldBytes();
        into.add(
            held != null
                ? OutputFile.held(name, file.layout(), held)
                : OutputFile.sealed(name, file.layout(), file.staging()));
      } else {
        collect((Dir) entry.getValue(), name + "/", into);
      }
    }
  }

  /** Closes every staging file and gives back what every file held; later calls fail. */
  synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (StagedFile file : openFiles) {
      file.discard();
    }
    openFiles.clear();
    root.children.clear();
    for (StagedFile file : created) {
      file.dispose();
    }
    created.clear();
  }

  private void live() throws FsError {
    if (closed) {
      throw new FsError(Errno.EIO);
    }
  }

  private void writable() throws FsError {
    live();
    if (sealed) {
      throw new FsError(Errno.EROFS);
    }
  }

  private FsNode lookup(String rel) throws FsError {
    live();
    FsNode node = root;
    int i = 0;
    while (i < rel.length()) {
      int end = rel.indexOf('/', i + 1);
      if (end < 0) {
        end = rel.length();
      }
      if (!(node instanceof Dir dir)) {
        throw new FsError(Errno.ENOTDIR);
      }
      node = dir.children.get(rel.substring(i + 1, end));
      if (node == null) {
        throw new FsError(Errno.ENOENT);
      }
      i = end;
    }
    return node;
  }

  private Dir dir(String rel) throws FsError {
    if (!(lookup(rel) instanceof Dir dir)) {
      throw new FsError(Errno.ENOTDIR);
    }
    return dir;
  }

  /** The directory that holds {@code rel}; the attempt directory itself has none here. */
  private Dir parentOf(String rel) throws FsError {
    if (rel.isEmpty()) {
      throw new FsError(Errno.EEXIST);
    }
    return dir(rel.substring(0, rel.lastIndexOf('/')));
  }

  private static String nameOf(String rel) {
    return rel.substring(rel.lastIndexOf('/') + 1);
  }
}
