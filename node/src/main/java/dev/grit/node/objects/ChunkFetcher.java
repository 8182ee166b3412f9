package dev.grit.node.objects;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.StateQueries;
import dev.grit.consensus.tls.MemberTls;
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
  /** Objects read per page of a repair pass. */
  static final int PAGE_OBJECTS = 10_000;

  /**
   * Made on the first fetch: building an HTTP client sets up TLS (the default SSL context loads the
   * trust store), a tenth of a second at every start of a node that may never fetch (the
   * embedded one has no peers).
   */
  private HttpClient http;
  private final MemberTls tls;
  private final String scheme;

  /**
   * @param tls this member's certificate, presented to peers' HTTPS APIs (whose chunks only
   *     members may fetch); null when members speak plain HTTP
   */
  public ChunkFetcher(
      String self, Supplier<StateQueries> queries, ChunkStore chunks, MemberTls tls) {
    this.self = self;
    this.queries = queries;
    this.chunks = chunks;
    this.tls = tls;
    this.scheme = tls != null ? "https://" : "http://";
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
            HttpRequest.newBuilder(URI.create(scheme + peer.httpAddress() + "/v1/chunks/" + digest))
                .timeout(Duration.ofSeconds(60))
                .build();
        HttpResponse<byte[]> response = http().send(request, HttpResponse.BodyHandlers.ofByteArray());
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
   * A GET of {@code pathAndQuery} on member {@code member}'s API, with this member's certificate
   * (as chunk fetches are made): for member-only routes such as a running attempt's output.
   *
   * @throws IOException when the member is unknown, has no API address or cannot be reached
   */
  public HttpResponse<byte[]> askMember(String member, String pathAndQuery, Duration timeout)
      throws IOException, InterruptedException {
    String address =
        queries.get().nodes().stream()
            .filter(n -> n.id().equals(member))
            .map(n -> n.httpAddress())
            .filter(a -> !a.isEmpty())
            .findFirst()
            .orElseThrow(() -> new IOException("no API address known for member " + member));
    var request =
        HttpRequest.newBuilder(URI.create(scheme + address + pathAndQuery)).timeout(timeout).build();
    return http().send(request, HttpResponse.BodyHandlers.ofByteArray());
  }

  private synchronized HttpClient http() {
    if (http == null) {
      var builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
      if (tls != null) {
        builder.sslContext(tls.sslContext());
      }
      http = builder.build();
    }
    return http;
  }

  /**
   * Fetches the missing chunks of objects recorded after row {@code afterRow}, a page of {@link
   * #PAGE_OBJECTS} objects at a time; returns the row the next pass goes on from: the last row
   * read, or the end of the last page whose chunks are all here (a chunk no peer could serve is
   * tried again by the next pass).
   */
  public long repairSince(long afterRow) {
    return repairSince(afterRow, PAGE_OBJECTS);
  }

  long repairSince(long afterRow, int pageObjects) {
    long row = afterRow;
    long resumeFrom = -1; // where the first page with a chunk left missing began
    leftThisPass = 0;
    while (true) {
      var page = queries.get().chunksSince(row, pageObjects);
      if (page.lastRow() == row) {
        repairBacklog = leftThisPass;
        return resumeFrom >= 0 ? resumeFrom : row;
      }
      int missing = 0;
      for (Digest d : page.chunks()) {
        if (!chunks.has(d)) {
          missing++;
        }
      }
      if (missing > 0) {
        int fetched = repair(page.chunks());
        if (fetched > 0) {
          LOG.info("fetched {} missing chunks from peers", fetched);
        }
        if (fetched < missing && resumeFrom < 0) {
          resumeFrom = row;
        }
      }
      row = page.lastRow();
    }
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
        leftThisPass++;
      }
    }
    return fetched;
  }

  private volatile int repairBacklog;
  private int leftThisPass; // only the repair pass touches it

  /**
   * The chunks the record points at that the last repair pass found missing here and could not
   * fetch: what the next pass must still repair.
   */
  public int repairBacklog() {
    return repairBacklog;
  }
}
