package dev.grit.node.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.EventExecutor;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request and the single response it gets. The request's parts are copied out of netty's
 * buffers, so a handler may answer later from any thread (after a Raft proposal completes, say);
 * the first response wins and later ones are dropped. Parameter accessors throw {@link
 * ApiException} (400) for malformed values.
 */
final class Exchange {
  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);

  private final ChannelHandlerContext ctx;
  private final EventExecutor executor;
  private final String method;
  private final String path;
  private final Map<String, List<String>> query;
  private final HttpHeaders headers;
  private final byte[] body;
  private final boolean keepAlive;
  private final Map<String, String> params;
  private final AtomicBoolean responded = new AtomicBoolean();

  Exchange(
      ChannelHandlerContext ctx,
      EventExecutor executor,
      String method,
      String path,
      Map<String, List<String>> query,
      HttpHeaders headers,
      byte[] body,
      boolean keepAlive,
      Map<String, String> params) {
    this.ctx = ctx;
    this.executor = executor;
    this.method = method;
    this.path = path;
    this.query = query;
    this.headers = headers;
    this.body = body;
    this.keepAlive = keepAlive;
    this.params = params;
  }

  ChannelHandlerContext ctx() {
    return ctx;
  }

  /**
   * The handler thread this connection's handlers run on: blocking local reads are fine here, and
   * work queued on it runs in order.
   */
  EventExecutor executor() {
    return executor;
  }

  String method() {
    return method;
  }

  String path() {
    return path;
  }

  boolean keepAlive() {
    return keepAlive;
  }

  /** A path parameter, such as {@code id} in {@code /v1/runs/{id}}. */
  String param(String name) {
    return params.get(name);
  }

  /** A path parameter that must be a positive decimal id. */
  long id(String name) {
    String raw = params.get(name);
    try {
      long id = Long.parseLong(raw);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.badRequest("malformed " + name, raw + " is not a positive integer id");
  }

  /** The first value of a query parameter, or null. */
  String query(String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  List<String> queryAll(String name) {
    return query.getOrDefault(name, List.of());
  }

  /** An integer query parameter in [min, max], or {@code absent} when it is not given. */
  int intQuery(String name, int absent, int min, int max) {
    String raw = query(name);
    if (raw == null) {
      return absent;
    }
    try {
      int value = Integer.parseInt(raw.trim());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.badRequest(
        "malformed " + name, name + " must be an integer from " + min + " to " + max + ": " + raw);
  }

  boolean flag(String name) {
    String raw = query(name);
    return raw != null && (raw.isEmpty() || raw.equalsIgnoreCase("true") || raw.equals("1"));
  }

  String header(String name) {
    return headers.get(name);
  }

  /** The body as UTF-8 text; malformed UTF-8 is a 400, never silently replaced. */
  String bodyText() {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(body))
          .toString();
    } catch (CharacterCodingException e) {
      throw ApiException.badRequest("request body is not UTF-8 text", null);
    }
  }

  void json(HttpResponseStatus status, Object value) {
    send(status, Json.bytes(value), "application/json");
  }

  void text(HttpResponseStatus status, String text, String contentType) {
    send(status, text.getBytes(StandardCharsets.UTF_8), contentType);
  }

  void send(HttpResponseStatus status, byte[] content, String contentType) {
    var response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(content));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    send(response);
  }

  /** Sends a complete response, unless one was sent already. */
  void send(FullHttpResponse response) {
    if (!claim()) {
      response.release();
      return;
    }
    HttpUtil.setContentLength(response, response.content().readableBytes());
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /**
   * Takes the right to respond, for a handler that writes a streamed response itself; false when a
   * response was already sent.
   */
  boolean claim() {
    return responded.compareAndSet(false, true);
  }

  /**
   * Answers with the error {@code failure} stands for: an {@link ApiException} as it says, anything
   * else as a 500 whose detail never includes a stack trace (that goes to the log).
   */
  void fail(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof ApiException e) {
      var response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              e.status(),
              Unpooled.wrappedBuffer(Json.bytes(Json.error(e.getMessage(), e.detail()))));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      if (e.status().equals(HttpResponseStatus.UNAUTHORIZED)) {
        response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"grit\"");
      }
      send(response);
      return;
    }
    LOG.warn("{} {} failed", method, path, t);
    json(
        HttpResponseStatus.INTERNAL_SERVER_ERROR,
        Json.error("internal error", t.getClass().getSimpleName()));
  }

  static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
