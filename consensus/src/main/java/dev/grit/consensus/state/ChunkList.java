package dev.grit.consensus.state;

import dev.grit.engine.object.Digest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** An object's chunk digests as one blob: 32 bytes each, in order. */
public final class ChunkList {
  private ChunkList() {}

  public static byte[] encode(List<Digest> chunks) {
    var buf = ByteBuffer.allocate(chunks.size() * Digest.LENGTH);
    for (Digest d : chunks) {
      buf.put(d.toBytes());
    }
    return buf.array();
  }

  public static List<Digest> decode(byte[] blob) {
    if (blob.length % Digest.LENGTH != 0) {
      throw new IllegalArgumentException("chunk list of " + blob.length + " bytes");
    }
    var out = new ArrayList<Digest>(blob.length / Digest.LENGTH);
    for (int off = 0; off < blob.length; off += Digest.LENGTH) {
      byte[] d = new byte[Digest.LENGTH];
      System.arraycopy(blob, off, d, 0, Digest.LENGTH);
      out.add(Digest.fromBytes(d));
    }
    return out;
  }
}
