package dev.grit.engine.command;

import java.util.List;

/**
 * A command whose entry carries chunk bytes beside it (Ratis state-machine data), in the order
 * of {@link #chunks()}. Every replica stores them before the entry counts as written.
 */
public interface CarriesChunks {
  List<PutChunks.Chunk> chunks();

  default long totalBytes() {
    long n = 0;
    for (PutChunks.Chunk c : chunks()) {
      n += c.length();
    }
    return n;
  }
}
