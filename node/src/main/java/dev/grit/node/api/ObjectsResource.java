package dev.grit.node.api;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.StateQueries.ResourceRow;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.node.Lineage;
import dev.grit.node.Node;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Resources and the bytes behind them: {@code /v1/pipelines/{p}/resources}, {@code /v1/resources},
 * {@code /v1/resources/{ref}/lineage} (see {@link Lineage}), {@code /v1/objects/{sha256}} (a whole
 * object, streamed and verified chunk by chunk) and {@code /v1/chunks/{sha256}} (one chunk, for
 * peers).
 *
 * <p>An object is streamed by {@link StreamedBody}: at most one stored chunk is in memory per
 * download, and a chunk that fails verification mid-stream aborts the connection, so the client
 * sees a short body against its Content-Length rather than wrong bytes.
 */
final class ObjectsResource {
  private static final int PIECE = 128 * 1024;

  private final Node node;

  ObjectsResource(Node node) {
    this.node = node;
  }

  /** One resource as the API shows it. */
  record ResourceJson(
      Digest hash, String name, String pipeline, long size, String createdAt, long producerTask) {}

  /** {@code GET /v1/pipelines/{p}/resources[?name=]}: newest first. */
  void pipelineResources(Exchange ex) {
    String pipeline = ex.param("pipeline");
    String name = ex.query("name");
    List<ResourceRow> rows =
        name != null
            ? node.queries().resourcesNamed(name, pipeline)
            : newestFirst(node.queries().resources(pipeline));
    ex.json(HttpResponseStatus.OK, json(rows));
  }

  /** {@code GET /v1/resources?name=[&pipeline=]}: a name across pipelines, newest first. */
  void resourcesNamed(Exchange ex) {
    String name = ex.query("name");
    if (name == null || name.isEmpty()) {
      throw ApiException.badRequest("missing name", "GET /v1/resources?name=NAME");
    }
    ex.json(HttpResponseStatus.OK, json(node.queries().resourcesNamed(name, ex.query("pipeline"))));
  }

  /**
   * {@code GET /v1/resources/{ref}/lineage[?direction=up|down][&depth=N][&pipeline=P]}: where the
   * resource came from (up, the default) or what came of it (down); {@code ref} is a sha256 or a
   * resource name (percent-encoded, so {@code counts%2Fchunk_1}), {@code depth} a number of task
   * generations, 0 (the default) for all.
   */
  void lineage(Exchange ex) {
    String direction = ex.query("direction");
    Lineage.Direction way;
    if (direction == null || direction.equals("up")) {
      way = Lineage.Direction.UP;
    } else if (direction.equals("down")) {
      way = Lineage.Direction.DOWN;
    } else {
      throw ApiException.badRequest("malformed direction", "up or down, not " + direction);
    }
    int depth = ex.intQuery("depth", 0, 0, 1_000_000);
    try {
      ex.json(
          HttpResponseStatus.OK,
          Lineage.of(node.queries(), ex.param("ref"), ex.query("pipeline"), way, depth));
    } catch (Lineage.NotFoundException e) {
      throw ApiException.notFound("no such resource", e.getMessage());
    }
  }

  /** {@code GET /v1/objects/{hash}}: the bytes, verified as they go out. */
  void object(Exchange ex) {
    Digest digest = digest(ex);
    ObjectLayout layout =
        node.queries()
            .object(digest)
            .orElseThrow(() -> ApiException.notFound("no such object", digest.toString()));
    ChunkStore chunks = node.chunks();
    // Checked before the 200 goes out: once streaming, a missing chunk could only cut the body.
    if (!chunks.hasAll(layout)) {
      try {
        node.fetcher().ensureLocal(layout);
      } catch (java.io.IOException e) {
        throw ApiException.unavailable("object not yet replicated here", e.getMessage());
      }
    }
    if (!ex.claim()) {
      return;
    }
    var response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
    response.headers().set(HttpHeaderNames.ETAG, "\"" + digest + "\"");
    HttpUtil.setContentLength(response, layout.size());
    HttpUtil.setKeepAlive(response, ex.keepAlive());
    StreamedBody.send(ex.ctx(), ex.executor(), response, chunks.open(layout), layout.size(), PIECE);
  }

  /** {@code GET /v1/chunks/{hash}}: one verified chunk, whole (chunks are at most 4 MiB). */
  void chunk(Exchange ex) {
    Digest digest = digest(ex);
    byte[] bytes;
    try {
      bytes = node.chunks().get(digest);
    } catch (ChunkStore.MissingChunkException e) {
      throw ApiException.notFound("no such chunk", digest.toString());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("chunk " + digest + " unreadable", e);
    }
    ex.send(HttpResponseStatus.OK, bytes, HttpHeaderValues.APPLICATION_OCTET_STREAM.toString());
  }

  private static Digest digest(Exchange ex) {
    String raw = ex.param("hash");
    try {
      return Digest.valueOf(raw);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("malformed hash", "not a sha256 (64 hex characters): " + raw);
    }
  }

  private static List<ResourceRow> newestFirst(List<ResourceRow> rows) {
    var sorted = new ArrayList<>(rows);
    sorted.sort(
        Comparator.comparingLong(ResourceRow::createdAt)
            .thenComparingLong(ResourceRow::id)
            .reversed());
    return sorted;
  }

  private static List<ResourceJson> json(List<ResourceRow> rows) {
    var out = new ArrayList<ResourceJson>();
    for (ResourceRow r : rows) {
      out.add(
          new ResourceJson(
              r.hash(),
              r.name(),
              r.pipeline(),
              r.size(),
              Json.time(r.createdAt()),
              r.producerTask()));
    }
    return out;
  }
}
