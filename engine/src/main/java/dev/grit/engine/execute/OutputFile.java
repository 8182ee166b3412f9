package dev.grit.engine.execute;

import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One file an attempt wrote: its resource name, its layout, and where its bytes are: a staging
 * file, or (a small file written through FUSE) memory.
 *
 * @param staging the file holding the bytes, or null when {@code bytes} holds them
 * @param bytes the whole content when it is held in memory (not to be modified), else null
 * @param sealed true when nothing but grit can have changed the bytes since they were hashed
 *     (held bytes, a staging file of a sealed FUSE directory); false for a file in a directory the
 *     script's processes could still write, whose bytes are to be checked when read
 */
public record OutputFile(
    String name, ObjectLayout layout, Path staging, byte[] bytes, boolean sealed) {
  public OutputFile {
    if ((staging == null) == (bytes == null)) {
      throw new IllegalArgumentException(name + ": bytes are either in a staging file or held");
    }
  }

  /** A file whose bytes are in {@code staging}, which others than grit may write. */
  public static OutputFile staged(String name, ObjectLayout layout, Path staging) {
    return new OutputFile(name, layout, staging, null, false);
  }

  /** A file whose bytes are in {@code staging}, which only grit writes and no longer changes. */
  static OutputFile sealed(String name, ObjectLayout layout, Path staging) {
    return new OutputFile(name, layout, staging, null, true);
  }

  /** A file whose bytes are {@code bytes}, whole, which nothing modifies any more. */
  public static OutputFile held(String name, ObjectLayout layout, byte[] bytes) {
    return new OutputFile(name, layout, null, bytes, true);
  }

  public boolean isHeld() {
    return bytes != null;
  }

  /** The whole content; a copy when it is held in memory. */
  public byte[] readAllBytes() throws IOException {
    return bytes != null ? bytes.clone() : Files.readAllBytes(staging);
  }

  /** {@code length} bytes from {@code offset} of a staging file, which must hold them all. */
  public static byte[] readStaged(Path staging, long offset, int length) throws IOException {
    byte[] out = new byte[length];
    ByteBuffer buf = ByteBuffer.wrap(out);
    try (FileChannel c = FileChannel.open(staging, StandardOpenOption.READ)) {
      while (buf.hasRemaining()) {
        if (c.read(buf, offset + buf.position()) < 0) {
          throw new IOException(
              staging + " is shorter than the " + (offset + length) + " bytes it should hold");
        }
      }
    }
    return out;
  }

  public Digest digest() {
    return layout.digest();
  }

  public long size() {
    return layout.size();
  }
}
