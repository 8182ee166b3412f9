package dev.grit.engine.object;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Hashes a stream of bytes fed in order, in one pass: the SHA-256 of the whole and of every
 * {@link #CHUNK_SIZE} chunk, so equal chunks are stored and sent once. Not thread-safe.
 */
public final class ChunkingHasher {
  public static final int CHUNK_SIZE = 4 * 1024 * 1024;

  private final MessageDigest whole = Digest.newSha256();
  private final MessageDigest chunk = Digest.newSha256();
  private final List<Digest> chunks = new ArrayList<>();
  private long size;
  private int inChunk;

  public void update(byte[] b, int off, int len) {
    whole.update(b, off, len);
    while (len > 0) {
      int n = Math.min(len, CHUNK_SIZE - inChunk);
      chunk.update(b, off, n);
      inChunk += n;
      off += n;
      len -= n;
      size += n;
      if (inChunk == CHUNK_SIZE) {
        chunks.add(Digest.of(chunk));
        inChunk = 0;
      }
    }
  }

  /** How many whole chunks the bytes so far make. */
  public int wholeChunks() {
    return chunks.size();
  }

  /** The digest of whole chunk {@code index}, counted from 0. */
  public Digest chunk(int index) {
    return chunks.get(index);
  }

  public long size() {
    return size;
  }

  /** Ends the stream; the hasher cannot be used afterwards. */
  public ObjectLayout finish() {
    if (inChunk > 0) {
      chunks.add(Digest.of(chunk));
    }
    return new ObjectLayout(Digest.of(whole), size, chunks);
  }

  /** Reads {@code file} once and returns its layout. */
  public static ObjectLayout layoutOf(Path file) throws IOException {
    var hasher = new ChunkingHasher();
    byte[] buf = new byte[256 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        hasher.update(buf, 0, n);
      }
    }
    return hasher.finish();
  }
}
