package dev.grit.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.RecordingFatalErrorHandler;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.testing.TestSecrets;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;

/**
 * A real embedded node with its API on loopback, secured as a deployed node is (HTTPS, tokens),
 * and a small HTTP client for it that brings an admin token. Tests share one per class: starting a
 * node takes a second or two.
 */
public final class TestServer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();

  public final RecordingFatalErrorHandler fatal = new RecordingFatalErrorHandler();
  public final Node node;
  public final ApiServer api;
  /** Its own CA, certificate and tokens: the API speaks HTTPS and wants tokens, as deployed. */
  public final TestSecrets secrets;
  private final HttpClient http;
  private final HttpClient memberHttp;

  public TestServer(Path dataDir) throws IOException {
    this(dataDir, Ports.take());
  }

  /** A node on a given Raft port: a restarted node must keep its address. */
  public TestServer(Path dataDir, int raftPort) throws IOException {
    this(dataDir, raftPort, EventStreamLimits.DEFAULT);
  }

  /** A node whose API has the given limits on event streams. */
  public TestServer(Path dataDir, EventStreamLimits limits) throws IOException {
    this(dataDir, Ports.take(), limits);
  }

  private TestServer(Path dataDir, int raftPort, EventStreamLimits limits) throws IOException {
    secrets =
        TestSecrets.create(
            dataDir.resolveSibling(dataDir.getFileName() + "-secrets"), java.util.List.of("local"));
    http = secrets.http();
    memberHttp = HttpClient.newBuilder().sslContext(secrets.member("local").sslContext()).build();
    node =
        Node.start(
            NodeConfig.embedded(dataDir, raftPort, 2).withSecurity(secrets.security("local")),
            InstantSource.system(),
            fatal);
    try {
      api = ApiServer.start(node, new InetSocketAddress("127.0.0.1", 0), limits);
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
  }

  public String url() {
    return "https://127.0.0.1:" + api.port();
  }

  public URI uri(String path) {
    return URI.create(url() + path);
  }

  /** A request for {@code path} with an admin token. */
  public HttpRequest.Builder request(String path) {
    return secrets.request(url() + path);
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(request(path).GET().build());
  }

  public HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
    return http.send(
        request(path).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  /** GET {@code path} as a member: with this node's own certificate and no token (chunks). */
  public HttpResponse<String> getAsMember(String path) throws IOException, InterruptedException {
    return memberHttp.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<byte[]> getBytesAsMember(String path) throws IOException, InterruptedException {
    return memberHttp.send(
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  public HttpResponse<String> post(String path, String body)
      throws IOException, InterruptedException {
    return send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  /** The grit command line with this node's CA and an admin token. */
  public dev.grit.node.testing.Grit grit(Path workDir) {
    return new dev.grit.node.testing.Grit(workDir, secrets.clientEnv());
  }

  public HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  public HttpClient http() {
    return http;
  }

  public static JsonNode json(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body());
  }

  /** Submits {@code manifest} to pipeline {@code pipeline}; returns the run id. */
  public long submit(String pipeline, String manifest) throws Exception {
    var r = post("/v1/runs?pipeline=" + pipeline, manifest);
    if (r.statusCode() != 201) {
      throw new AssertionError("submit failed: " + r.statusCode() + " " + r.body());
    }
    return json(r).get("run").asLong();
  }

  /** Polls the run until it ends; returns its final view. */
  public JsonNode awaitEnd(long run, Duration limit) throws Exception {
    JsonNode[] last = new JsonNode[1];
    Wait.until(
        "run " + run + " to end",
        limit,
        () -> {
          try {
            last[0] = json(get("/v1/runs/" + run));
            return !last[0].get("state").asText().equals("RUNNING");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        },
        () -> String.valueOf(last[0]));
    return last[0];
  }

  @Override
  public void close() {
    try {
      api.close();
    } finally {
      node.close();
    }
    fatal.assertNone();
  }
}
