package dev.grit.engine.execute;

/**
 * A file-system operation refused with an errno, returned negated to FUSE. Cheap: it carries no
 * stack trace, because refusals such as {@code ENOENT} for a lookup of a new file are routine.
 */
final class FsError extends Exception {
  final int errno;

  FsError(int errno) {
    super(null, null, false, false);
    this.errno = errno;
  }
}
