package dev.grit.node.objects;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes chunks local that the record points at but this node does not have: a node that installed
 * a snapshot got the record without the bytes beside the log. Chunks are fetched from peers' APIs
 * by digest and verified before they are stored, so any peer will do and a fetch is idempotent.
 */
public final class ChunkFetcher {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkFetcher.class);

  private final String self;
  private final Supplier<StateQueries> queries;
  private final ChunkStore chunks;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public ChunkFetcher(String self, Supplier<StateQueries> queries, ChunkStore chunks) {
    this.self = self;
    this.queries = queries;
    this.chunks = chunks;
  }

  /** Fetches whatever chunks of {@code layout} are missing here. */
  public void ensureLocal(ObjectLayout layout) throws IOException {
    for (Digest d : layout.chunks()) {
      if (!chunks.has(d)) {
        fetch(d);
      }
    }
  }

  /** Fetches one chunk from the first peer that has it, verifies and stores it. */
  public void fetch(Digest digest) throws IOException {
    IOException last = new ChunkStore.MissingChunkException(digest);
    for (var peer : queries.get().nodes()) {
      if (peer.id().equals(self) || peer.httpAddress().isEmpty()) {
        continue;
      }
      try {
        var request =
            HttpRequest.newBuilder(URI.create("http://" + peer.httpAddress() + "/v1/chunks/" + digest))
                .timeout(Duration.ofSeconds(60))
                .build();
        HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
          last = new IOException(peer.id() + " answered " + response.statusCode() + " for chunk " + digest);
          continue;
        }
        byte[] bytes = response.body();
        if (!Digest.of(bytes).equals(digest)) {
          last = new IOException(peer.id() + " sent bytes that do not hash to chunk " + digest);
          continue;
        }
        chunks.putAll(List.of(new ChunkStore.Chunk(digest, ByteBuffer.wrap(bytes))));
        return;
      } catch (IOException e) {
        last = new IOException("fetching chunk " + digest + " from " + peer.id() + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while fetching chunk " + digest, e);
      }
    }
    LOG.debug("chunk {} could not be fetched: {}", digest, last.getMessage());
    throw last;
  }

  /**
   * Fetches every chunk the record points at that is missing here; returns how many were
   * fetched. Chunks no peer can serve yet are left for the next pass.
   */
  public int repairAll() {
    return repair(queries.get().allChunks());
  }

  /**
   * Fetches the missing chunks of objects recorded after row {@code afterRow}; returns the last
   * row it read, from which the next pass goes on, or {@code afterRow} again when a chunk could
   * not be fetched (the next pass tries it again).
   */
  public long repairSince(long afterRow) {
    var since = queries.get().chunksSince(afterRow);
    int missing = 0;
    for (Digest d : since.chunks()) {
      if (!chunks.has(d)) {
        missing++;
      }
    }
    if (missing == 0) {
      return since.lastRow();
    }
    int fetched = repair(since.chunks());
    if (fetched > 0) {
      LOG.info("fetched {} missing chunks from peers", fetched);
    }
    return fetched == missing ? since.lastRow() : afterRow;
  }

  private int repair(List<Digest> digests) {
    int fetched = 0;
    for (Digest d : digests) {
      if (chunks.has(d)) {
        continue;
      }
      try {
        fetch(d);
        fetched++;
      } catch (IOException e) {
        LOG.warn("chunk {} is missing here and could not be fetched: {}", d, e.getMessage());
      }
    }
    return fetched;
  }
}
