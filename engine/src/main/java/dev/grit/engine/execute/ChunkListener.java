package dev.grit.engine.execute;

import dev.grit.engine.object.Digest;
import java.nio.file.Path;

/**
 * Told of each whole chunk of an output as soon as the script has written it and it is hashed,
 * while the script goes on: so its bytes can be stored while the rest is written. Only outputs
 * written front to back through FUSE are told of; what a listener is told may be stale by the time
 * it reads the bytes (the script may write the range again, or the attempt end and its staging
 * file be reused), so a listener stores the bytes it reads only under the digest they have.
 */
@FunctionalInterface
public interface ChunkListener {
  ChunkListener NONE = (staging, offset, digest) -> {};

  /**
   * Bytes {@code offset} to {@code offset + }{@link
   * dev.grit.engine.object.ChunkingHasher#CHUNK_SIZE} of {@code staging} hashed to {@code digest}.
   * Called on a hashing thread that other files share: it must not block.
   */
  void chunkWritten(Path staging, long offset, Digest digest);
}
