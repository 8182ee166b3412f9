package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.tls.Pem;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The grit HTTP API, for client commands: each request goes to the servers in order until one
 * answers. A server that cannot be reached, or answers 503 (no quorum there, or at its limit of
 * event streams), is skipped; when none answers better, the last 503 is returned, and when none
 * answers at all, a {@link ClientException} with {@link Main#UNREACHABLE} (a TLS failure is one,
 * said in words: an unknown CA, a wrong host name, a server without TLS). Retrying on another
 * server is safe: reads are idempotent and a submission carries its own request id. 401 and 403
 * are answers: they are not retried elsewhere, and {@link #check} says which credential to bring.
 * Not thread-safe (one per command).
 */
final class ApiClient {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

  private final List<URI> servers;
  private final HttpClient http;
  private final String token;

  /**
   * @param token the bearer token sent with every request, or null
   * @param cacert PEM file of the CA the servers' certificates must be signed by, or null for the
   *     system's CAs
   */
  ApiClient(List<URI> servers, String token, Path cacert) throws ClientException {
    this.servers = List.copyOf(servers);
    this.token = token == null || token.isBlank() ? null : token;
    var builder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT);
    if (cacert != null) {
      builder.sslContext(trusting(cacert));
    }
    this.http = builder.build();
    // Its selector thread waits in native code until the process ends.
    ProcessEnd.endAtOnce();
  }

  /** A TLS context that trusts exactly the CA certificates in {@code cacert}. */
  private static SSLContext trusting(Path cacert) throws ClientException {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (X509Certificate ca : Pem.certificates(cacert)) {
        store.setCertificateEntry("ca-" + i++, ca);
      }
      var trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (IOException e) {
      throw new ClientException(Main.USAGE, "--cacert: " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new ClientException(Main.USAGE, "--cacert " + cacert + ": " + e.getMessage());
    }
  }

  private HttpRequest.Builder request(URI server, String path, Duration timeout) {
    var b = HttpRequest.newBuilder(URI.create(server + path)).timeout(timeout);
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return b;
  }

  /** One answer: its status, its body, and the server that gave it. */
  record Response(int status, byte[] body, URI server) {
    boolean ok() {
      return status >= 200 && status < 300;
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    JsonNode json() throws ClientException {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new ClientException(Main.FAILED, server + " answered " + status + " with no JSON");
      }
    }
  }

  Response get(String path) throws ClientException {
    return send(path, b -> b.GET(), Duration.ofSeconds(60));
  }

  Response post(String path, byte[] body, Map<String, String> headers) throws ClientException {
    return send(
        path,
        b -> {
          headers.forEach(b::header);
          return b.POST(HttpRequest.BodyPublishers.ofByteArray(body));
        },
        REQUEST_TIMEOUT);
  }

  Response delete(String path) throws ClientException {
    return send(path, b -> b.DELETE(), REQUEST_TIMEOUT);
  }

  /** GET, and the JSON body of a 2xx answer; any other answer is a {@link ClientException}. */
  JsonNode getJson(String path) throws ClientException {
    return check(get(path)).json();
  }

  /** Throws the {@link ClientException} an unsuccessful answer stands for; returns a good one. */
  static Response check(Response r) throws ClientException {
    if (r.ok()) {
      return r;
    }
    if (r.status() == 401) {
      throw new ClientException(
          Main.FAILED,
          "not authenticated by " + r.server() + ": " + describe(r)
              + " (pass --token or set " + ServerOption.TOKEN_ENV + ")");
    }
    if (r.status() == 403) {
      throw new ClientException(
          Main.FAILED, "not allowed by " + r.server() + ": " + describe(r) + " (ask for a token of that role)");
    }
    throw new ClientException(exitCode(r.status()), describe(r));
  }

  /** The exit code for an error status: the client's fault 2, absent or over 1, no quorum 3. */
  static int exitCode(int status) {
    if (status == 503) {
      return Main.UNREACHABLE;
    }
    if (status == 400 || status == 405 || status == 413) {
      return Main.USAGE;
    }
    return Main.FAILED;
  }

  /** "error: detail" from the JSON error body, or the status when there is none. */
  static String describe(Response r) {
    try {
      JsonNode body = JSON.readTree(r.body());
      String error = body.path("error").asText("");
      JsonNode detail = body.path("detail");
      if (!error.isEmpty()) {
        return detail.isMissingNode() || detail.isNull()
            ? error
            : error + ": " + (detail.isTextual() ? detail.asText() : detail.toString());
      }
    } catch (IOException e) {
      // not JSON: fall through
    }
    return r.server() + " answered HTTP " + r.status();
  }

  /** A streamed GET (an object's bytes, an event stream), from the first server that answers. */
  <T> HttpResponse<T> stream(String path, HttpResponse.BodyHandler<T> handler)
      throws ClientException {
    var failures = new ArrayList<String>();
    HttpResponse<T> unavailable = null;
    for (URI server : servers) {
      try {
        HttpResponse<T> r = http.send(request(server, path, REQUEST_TIMEOUT).GET().build(), handler);
        if (r.statusCode() != 503) {
          return r;
        }
        unavailable = r;
        failures.add(server + ": HTTP 503");
      } catch (IOException e) {
        failures.add(server + ": " + reason(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ClientException(Main.FAILED, "interrupted");
      }
    }
    if (unavailable != null) {
      return unavailable;
    }
    throw unreachable(failures);
  }

  HttpResponse<InputStream> download(String path) throws ClientException {
    return stream(path, HttpResponse.BodyHandlers.ofInputStream());
  }

  /** Reads a streamed error body into a {@link Response} for {@link #check}. */
  static Response drain(HttpResponse<InputStream> r) {
    try (InputStream in = r.body()) {
      return new Response(r.statusCode(), in.readNBytes(64 * 1024), r.uri());
    } catch (IOException e) {
      return new Response(r.statusCode(), new byte[0], r.uri());
    }
  }

  private interface RequestShape {
    HttpRequest.Builder apply(HttpRequest.Builder b);
  }

  private Response send(String path, RequestShape shape, Duration timeout) throws ClientException {
    var failures = new ArrayList<String>();
    Response unavailable = null;
    for (URI server : servers) {
      HttpRequest request = shape.apply(request(server, path, timeout)).build();
      try {
        HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        var response = new Response(r.statusCode(), r.body(), server);
        if (r.statusCode() != 503) {
          return response;
        }
        unavailable = response;
        failures.add(server + ": " + describe(response));
      } catch (IOException e) {
        failures.add(server + ": " + reason(e));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ClientException(Main.FAILED, "interrupted");
      }
    }
    if (unavailable != null) {
      return unavailable;
    }
    throw unreachable(failures);
  }

  private static ClientException unreachable(List<String> failures) {
    return new ClientException(
        Main.UNREACHABLE, "no grit server answered (" + String.join("; ", failures) + ")");
  }

  /** Why a server could not be asked, in words that say what to do about TLS failures. */
  static String reason(IOException e) {
    SSLException tls = sslCause(e);
    if (tls != null) {
      String m = String.valueOf(tls.getMessage());
      if (m.contains("PKIX") || m.contains("unable to find valid certification path")) {
        return "TLS: the server's certificate is not signed by a CA this client trusts (pass the"
            + " cluster's CA certificate: --cacert FILE or " + ServerOption.CACERT_ENV + ")";
      }
      if (m.contains("No subject alternative") || m.contains("No name matching")) {
        return "TLS: the server's certificate is not for this host name (" + m + ")";
      }
      if (m.contains("Unsupported or unrecognized SSL message")) {
        return "TLS: the server does not speak TLS (a node without --tls: use http://)";
      }
      if (m.contains("expired") || m.contains("validity")) {
        return "TLS: the server's certificate is not valid now (" + m + ")";
      }
      return "TLS handshake failed: " + m;
    }
    String m = e.getMessage();
    if (e instanceof java.net.ConnectException || m == null) {
      return "cannot connect";
    }
    return m;
  }

  private static SSLException sslCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SSLException s) {
        return s;
      }
    }
    return null;
  }
}
