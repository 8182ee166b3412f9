package dev.grit.engine.command;

import dev.grit.engine.object.Digest;
import java.util.List;

/**
 * Chunks of object bytes entering the cluster. The bytes travel beside the log entry (Ratis
 * state-machine data), not in it; applying it changes no table. A chunk's bytes must hash to its
 * digest.
 */
public record PutChunks(List<Chunk> chunks) implements Command, CarriesChunks {
  public PutChunks {
    chunks = List.copyOf(chunks);
  }

  public record Chunk(Digest digest, int length) {}
}
