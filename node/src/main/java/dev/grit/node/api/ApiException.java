package dev.grit.node.api;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request that cannot be served as asked, with the status and JSON error body the client gets.
 * Thrown by handlers; the router turns it into the response, so handlers never write errors
 * themselves.
 */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient HttpResponseStatus status;
  private final transient Object detail;

  ApiException(HttpResponseStatus status, String error, Object detail) {
    super(error, null, false, false);
    this.status = status;
    this.detail = detail;
  }

  static ApiException badRequest(String error, Object detail) {
    return new ApiException(HttpResponseStatus.BAD_REQUEST, error, detail);
  }

  static ApiException notFound(String error, Object detail) {
    return new ApiException(HttpResponseStatus.NOT_FOUND, error, detail);
  }

  static ApiException conflict(String error, Object detail) {
    return new ApiException(HttpResponseStatus.CONFLICT, error, detail);
  }

  static ApiException unavailable(String error, Object detail) {
    return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, error, detail);
  }

  HttpResponseStatus status() {
    return status;
  }

  Object detail() {
    return detail;
  }
}
