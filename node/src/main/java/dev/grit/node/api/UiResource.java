package dev.grit.node.api;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The web UI: {@code /} is its page, {@code /ui/{file}} its scripts and style, all read once from
 * the jar (nothing is fetched from elsewhere, at build or run time). The files are open: they hold
 * no data. Everything the page shows it fetches from the API with the user's bearer token, which
 * the page asks for once and keeps for the browser tab's session.
 */
final class UiResource {
  /** Where the files are on the class path. */
  private static final String ROOT = "/dev/grit/node/ui/";

  private static final List<String> FILES =
      List.of("index.html", "app.js", "api.js", "graph.js", "style.css");

  /**
   * The page runs only its own scripts and talks only to this node: no inline script, no other
   * origin, no framing.
   */
  private static final String POLICY =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
          + " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private record Asset(byte[] bytes, String contentType) {}

  private final Map<String, Asset> assets = new HashMap<>();

  UiResource() {
    for (String name : FILES) {
      assets.put(name, new Asset(read(name), contentType(name)));
    }
  }

  void index(Exchange ex) {
    serve(ex, assets.get("index.html"));
  }

  void file(Exchange ex) {
    Asset asset = assets.get(ex.param("file"));
    if (asset == null) {
      throw ApiException.notFound("not found", "no UI file " + ex.param("file"));
    }
    serve(ex, asset);
  }

  private static void serve(Exchange ex, Asset asset) {
    var response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(asset.bytes()));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, asset.contentType());
    // Revalidated each time: a node upgraded in place serves its own version at once.
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
    response.headers().set(HttpHeaderNames.CONTENT_SECURITY_POLICY, POLICY);
    response.headers().set("X-Content-Type-Options", "nosniff");
    response.headers().set("Referrer-Policy", "no-referrer");
    ex.send(response);
  }

  private static byte[] read(String name) {
    try (InputStream in = UiResource.class.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        throw new IllegalStateException("the UI file " + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String contentType(String name) {
    if (name.endsWith(".html")) {
      return "text/html; charset=utf-8";
    } else if (name.endsWith(".js")) {
      return "text/javascript; charset=utf-8";
    } else if (name.endsWith(".css")) {
      return "text/css; charset=utf-8";
    }
    return "application/octet-stream";
  }
}
