package dev.grit.node.api;

import dev.grit.node.auth.Role;
import dev.grit.node.auth.Tokens;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Decides whether a request may use a route: a bearer token of a sufficient {@link Role} for the
 * API's routes, a member certificate (verified by TLS against the cluster's CA) for the routes
 * between members. No credentials, or ones that match nothing, is 401; credentials that do not
 * allow the route, 403. Without tokens (a node confined to loopback, or started {@code --insecure})
 * the routes are open; without TLS, so are the members' routes.
 */
final class Authenticator {
  private static final String BEARER = "bearer ";

  private final Tokens tokens;
  private final boolean tls;

  /**
   * @param tokens the tokens of the API, or null for an open API
   * @param tls whether connections are TLS, whose client certificates identify members
   */
  Authenticator(Tokens tokens, boolean tls) {
    this.tokens = tokens;
    this.tls = tls;
  }

  /** Returns when the request may use a route of {@code access}; else throws 401 or 403. */
  void check(ChannelHandlerContext ctx, HttpHeaders headers, Access access) {
    switch (access) {
      case OPEN -> {}
      case MEMBER -> {
        if (tls && !presentsCertificate(ctx)) {
          String token = token(headers);
          if (token != null && tokens != null && tokens.find(token).isPresent()) {
            throw forbidden(
                "only members may use this", "it takes a member certificate of the cluster's CA");
          }
          throw unauthorized(
              "no member certificate", "it takes a member certificate of the cluster's CA");
        }
      }
      default -> {
        if (tokens == null) {
          return;
        }
        String token = token(headers);
        if (token == null) {
          throw unauthorized(
              "missing bearer token",
              "send Authorization: Bearer TOKEN (grit: --token or GRIT_TOKEN)");
        }
        var entry = tokens.find(token);
        if (entry.isEmpty()) {
          throw unauthorized("unknown token", "the token is not among this cluster's tokens");
        }
        Role role = entry.get().role();
        if (!role.includes(access.role)) {
          throw forbidden(
              "not allowed",
              "a "
                  + role.spelling()
                  + " token may not do this; it takes "
                  + access.role.spelling());
        }
      }
    }
  }

  private static String token(HttpHeaders headers) {
    String value = headers.get(HttpHeaderNames.AUTHORIZATION);
    if (value == null
        || value.length() <= BEARER.length()
        || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    return value.substring(BEARER.length()).strip();
  }

  private static boolean presentsCertificate(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return false;
    }
    try {
      return ssl.engine().getSession().getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException e) {
      return false;
    }
  }

  private static ApiException unauthorized(String error, String detail) {
    return new ApiException(HttpResponseStatus.UNAUTHORIZED, error, detail);
  }

  private static ApiException forbidden(String error, String detail) {
    return new ApiException(HttpResponseStatus.FORBIDDEN, error, detail);
  }
}
