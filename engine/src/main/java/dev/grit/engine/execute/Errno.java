package dev.grit.engine.execute;

import ru.serce.jnrfuse.ErrorCodes;

/** The errno values the FUSE callbacks return (negated), looked up once. */
final class Errno {
  static final int EPERM = ErrorCodes.EPERM();
  static final int ENOENT = ErrorCodes.ENOENT();
  static final int EIO = ErrorCodes.EIO();
  static final int EBADF = ErrorCodes.EBADF();
  static final int EACCES = ErrorCodes.EACCES();
  static final int EBUSY = ErrorCodes.EBUSY();
  static final int EEXIST = ErrorCodes.EEXIST();
  static final int EXDEV = ErrorCodes.EXDEV();
  static final int ENOTDIR = ErrorCodes.ENOTDIR();
  static final int EISDIR = ErrorCodes.EISDIR();
  static final int EINVAL = ErrorCodes.EINVAL();
  static final int EFBIG = ErrorCodes.EFBIG();
  static final int ENOSPC = ErrorCodes.ENOSPC();
  static final int EROFS = ErrorCodes.EROFS();
  static final int ENOTEMPTY = ErrorCodes.ENOTEMPTY();
  static final int EDQUOT = ErrorCodes.EDQUOT();
  static final int ENOSYS = ErrorCodes.ENOSYS();

  private Errno() {}

  /**
   * The errno behind a failed write to a staging file. Java does not expose errno, so this goes by
   * the system's message; anything unrecognised is an I/O error.
   */
  static int of(java.io.IOException e) {
    String message = String.valueOf(e.getMessage());
    if (message.contains("No space left")) {
      return ENOSPC;
    }
    if (message.contains("quota")) {
      return EDQUOT;
    }
    if (message.contains("too large")) {
      return EFBIG;
    }
    return EIO;
  }
}
