package dev.grit.engine.object;

import java.util.List;

/**
 * How an object is stored: its digest and size, and the digests of its chunks of {@link
 * ChunkingHasher#CHUNK_SIZE} bytes (the last one shorter). An empty object has no chunks; an
 * object of one chunk has that chunk's digest as its own.
 */
public record ObjectLayout(Digest digest, long size, List<Digest> chunks) {
  public ObjectLayout {
    chunks = List.copyOf(chunks);
  }

  public static ObjectLayout of(byte[] data) {
    var hasher = new ChunkingHasher();
    hasher.update(data, 0, data.length);
    return hasher.finish();
  }
}
