package dev.grit.node.api;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.EventExecutorGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Matches each request to a route by method and path ({@code /v1/runs/{id}}: literal segments and
 * named parameters) on the I/O thread, and runs its handler on the connection's handler thread (one
 * of {@code handlers}, the same for the connection's life, so its requests are served in order),
 * where blocking local reads are allowed. No route for the path is a 404; a route for the path but
 * not the method is a 405 with {@code Allow}. Each route names who may use it ({@link Access}); the
 * {@link Authenticator} answers 401 or 403 before its handler runs. A GET with {@code ?consistent=true} waits for the
 * {@link ReadBarrier} first. Every failure becomes a JSON error response (see {@link
 * Exchange#fail}).
 */
@Sharable
final class Router extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(Router.class);

  /** Serves one exchange; may answer later, from another thread. */
  @FunctionalInterface
  interface Handler {
    void handle(Exchange exchange) throws Exception;
  }

  private record Route(HttpMethod method, List<String> segments, Access access, Handler handler) {}

  private static final AttributeKey<EventExecutor> EXECUTOR =
      AttributeKey.valueOf(Router.class, "executor");

  private final List<Route> routes = new ArrayList<>();
  private final ReadBarrier barrier;
  private final EventExecutorGroup handlers;
  private final Authenticator authenticator;

  Router(ReadBarrier barrier, EventExecutorGroup handlers, Authenticator authenticator) {
    this.barrier = barrier;
    this.handlers = handlers;
    this.authenticator = authenticator;
  }

  /** Adds a route that {@code access} may use; call before the server accepts connections. */
  Router add(HttpMethod method, String pattern, Access access, Handler handler) {
    routes.add(new Route(method, segments(pattern), access, handler));
    return this;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      Exchange bad = exchange(ctx, request, "", Map.of(), false, Map.of());
      bad.fail(ApiException.badRequest("malformed HTTP request", null));
      return;
    }
    QueryStringDecoder uri;
    List<String> path;
    Map<String, List<String>> query;
    try {
      uri = new QueryStringDecoder(request.uri());
      path = decodedSegments(uri.rawPath());
      query = uri.parameters();
    } catch (IllegalArgumentException e) {
      Exchange bad = exchange(ctx, request, request.uri(), Map.of(), keepAlive, Map.of());
      bad.fail(ApiException.badRequest("malformed request URI", null));
      return;
    }
    String pathText = uri.path();
    Set<String> allowed = new LinkedHashSet<>();
    for (Route route : routes) {
      Map<String, String> params = match(route.segments(), path);
      if (params == null) {
        continue;
      }
      if (!route.method().equals(request.method())) {
        allowed.add(route.method().name());
        continue;
      }
      Exchange exchange = exchange(ctx, request, pathText, query, keepAlive, params);
      try {
        authenticator.check(ctx, request.headers(), route.access());
      } catch (ApiException denied) {
        exchange.fail(denied);
        return;
      }
      dispatch(route.handler(), exchange);
      return;
    }
    Exchange exchange = exchange(ctx, request, pathText, query, keepAlive, Map.of());
    if (allowed.isEmpty()) {
      exchange.fail(ApiException.notFound("not found", "no endpoint " + pathText));
    } else {
      var response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.METHOD_NOT_ALLOWED,
              Unpooled.wrappedBuffer(
                  Json.bytes(
                      Json.error(
                          "method not allowed",
                          request.method().name() + " " + pathText + "; allowed: " + allowed))));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
      response.headers().set(HttpHeaderNames.ALLOW, String.join(", ", allowed));
      exchange.send(response);
    }
  }

  private void dispatch(Handler handler, Exchange exchange) {
    if (exchange.method().equals("GET") && exchange.flag("consistent")) {
      barrier
          .await()
          .whenComplete(
              (ok, error) -> {
                if (error != null) {
                  exchange.fail(error);
                } else {
                  exchange.executor().execute(() -> run(handler, exchange));
                }
              });
    } else {
      exchange.executor().execute(() -> run(handler, exchange));
    }
  }

  private static void run(Handler handler, Exchange exchange) {
    try {
      handler.handle(exchange);
    } catch (Throwable t) {
      exchange.fail(t);
    }
  }

  private Exchange exchange(
      ChannelHandlerContext ctx,
      FullHttpRequest request,
      String path,
      Map<String, List<String>> query,
      boolean keepAlive,
      Map<String, String> params) {
    EventExecutor executor = ctx.channel().attr(EXECUTOR).get();
    if (executor == null) {
      executor = handlers.next();
      ctx.channel().attr(EXECUTOR).set(executor);
    }
    return new Exchange(
        ctx,
        executor,
        request.method().name(),
        path,
        query,
        request.headers().copy(),
        ByteBufUtil.getBytes(request.content()),
        keepAlive,
        params);
  }

  /** The parameters when {@code pattern} matches {@code path}, else null. */
  private static Map<String, String> match(List<String> pattern, List<String> path) {
    if (pattern.size() != path.size()) {
      return null;
    }
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < pattern.size(); i++) {
      String p = pattern.get(i);
      if (p.startsWith("{") && p.endsWith("}")) {
        params.put(p.substring(1, p.length() - 1), path.get(i));
      } else if (!p.equals(path.get(i))) {
        return null;
      }
    }
    return params;
  }

  private static List<String> segments(String pattern) {
    var out = new ArrayList<String>();
    for (String s : pattern.split("/")) {
      if (!s.isEmpty()) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * The path's segments, each percent-decoded on its own so that an encoded slash stays inside its
   * segment. One trailing slash is ignored.
   */
  private static List<String> decodedSegments(String rawPath) {
    var out = new ArrayList<String>();
    String[] parts = rawPath.split("/", -1);
    for (int i = 0; i < parts.length; i++) {
      boolean leading = i == 0;
      boolean trailing = i == parts.length - 1 && parts.length > 1;
      if (parts[i].isEmpty() && (leading || trailing)) {
        continue;
      }
      out.add(QueryStringDecoder.decodeComponent(parts[i]));
    }
    return out;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A client that went away mid-response is routine; anything else is worth a line.
    LOG.debug("API connection failed: {}", cause.toString());
    ctx.close();
  }
}
