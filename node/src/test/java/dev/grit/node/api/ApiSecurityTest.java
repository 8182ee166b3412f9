package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.auth.Role;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may use which route: every route but the probes takes a bearer token of its class's role (401
 * without one or with an unknown one, 403 with too small a role, both JSON); chunks between members
 * take a member certificate; the port speaks HTTPS only.
 */
class ApiSecurityTest {
  @TempDir static Path dir;
  static TestServer server;

  static final String HASH = "0".repeat(64);

  /** One request of each route, and the role its class takes. */
  record Route(String method, String path, Role role) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  static final List<Route> ROUTES =
      List.of(
          new Route("GET", "/v1/runs", Role.READ),
          new Route("GET", "/v1/runs/999", Role.READ),
          new Route("GET", "/v1/runs/999/events", Role.READ),
          new Route("GET", "/v1/runs/999/steps", Role.READ),
          new Route("GET", "/v1/runs/999/tasks", Role.READ),
          new Route("GET", "/v1/whoami", Role.READ),
          new Route("GET", "/v1/pipelines/p/resources", Role.READ),
          new Route("GET", "/v1/resources?name=x", Role.READ),
          new Route("GET", "/v1/objects/" + HASH, Role.READ),
          new Route("GET", "/v1/tasks/999", Role.READ),
          new Route("GET", "/v1/tasks/999/log", Role.READ),
          new Route("GET", "/v1/cluster", Role.READ),
          new Route("GET", "/metrics", Role.READ),
          new Route("POST", "/v1/runs?pipeline=p", Role.SUBMIT),
          new Route("POST", "/v1/runs/999/cancel", Role.SUBMIT),
          new Route("POST", "/v1/cluster/members", Role.ADMIN),
          new Route("DELETE", "/v1/cluster/members/n9", Role.ADMIN));

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static HttpResponse<String> send(HttpClient http, Route route, String token)
      throws Exception {
    var b =
        HttpRequest.newBuilder(URI.create(server.url() + route.path()))
            .timeout(Duration.ofSeconds(30))
            .method(route.method(), HttpRequest.BodyPublishers.ofString(""));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyRouteClassTakesATokenOfItsRole() throws Exception {
    HttpClient http = server.secrets.http();
    for (Route route : ROUTES) {
      var none = send(http, route, null);
      assertEquals(401, none.statusCode(), route + ": " + none.body());
      assertEquals(
          "missing bearer token", TestServer.json(none).get("error").asText(), route.toString());
      assertEquals(
          "Bearer realm=\"grit\"", none.headers().firstValue("www-authenticate").orElse(""));
      var unknown = send(http, route, "grit_" + "x".repeat(43));
      assertEquals(401, unknown.statusCode(), route + ": " + unknown.body());
      assertEquals("unknown token", TestServer.json(unknown).get("error").asText());
      for (Role role : Role.values()) {
        var r = send(http, route, server.secrets.token(role));
        if (role.includes(route.role())) {
          assertFalse(
              r.statusCode() == 401 || r.statusCode() == 403,
              route + " as " + role + ": " + r.statusCode() + " " + r.body());
        } else {
          assertEquals(403, r.statusCode(), route + " as " + role + ": " + r.body());
          assertTrue(
              TestServer.json(r)
                  .get("detail")
                  .asText()
                  .contains("it takes " + route.role().spelling()),
              r.body());
        }
      }
    }
  }

  @Test
  void theProbesAndTheWebUiFilesAreOpen() throws Exception {
    for (String probe : List.of("/livez", "/readyz", "/", "/ui/app.js")) {
      var r = send(server.secrets.http(), new Route("GET", probe, null), null);
      assertEquals(200, r.statusCode(), probe + ": " + r.body());
    }
  }

  @Test
  void chunksAreForMembersByTheirCertificate() throws Exception {
    Route chunk = new Route("GET", "/v1/chunks/" + HASH, null);
    var none = send(server.secrets.http(), chunk, null);
    assertEquals(401, none.statusCode(), none.body());
    assertEquals("no member certificate", TestServer.json(none).get("error").asText());
    var admin = send(server.secrets.http(), chunk, server.secrets.token(Role.ADMIN));
    assertEquals(403, admin.statusCode(), admin.body());

    HttpClient member =
        HttpClient.newBuilder().sslContext(server.secrets.member("local").sslContext()).build();
    var asMember = send(member, chunk, null);
    assertEquals(404, asMember.statusCode(), asMember.body());
    assertEquals("no such chunk", TestServer.json(asMember).get("error").asText());
  }

  @Test
  void aRunningAttemptsOutputIsForMembersByTheirCertificate() throws Exception {
    Route live = new Route("GET", "/v1/attempts/999/1/live?from=0", null);
    var none = send(server.secrets.http(), live, null);
    assertEquals(401, none.statusCode(), none.body());
    assertEquals("no member certificate", TestServer.json(none).get("error").asText());
    var admin = send(server.secrets.http(), live, server.secrets.token(Role.ADMIN));
    assertEquals(403, admin.statusCode(), admin.body());

    HttpClient member =
        HttpClient.newBuilder().sslContext(server.secrets.member("local").sslContext()).build();
    var asMember = send(member, live, null);
    assertEquals(404, asMember.statusCode(), asMember.body());
    assertEquals("not running here", TestServer.json(asMember).get("error").asText());
  }

  @Test
  void plainHttpGetsAPlainAnswer() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.api.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /v1/runs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + server.secrets.token(Role.ADMIN)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
      assertTrue(answer.contains("{\"error\":\"this API speaks HTTPS\""), answer);
      assertFalse(
          answer.contains("\"runs\"") || answer.contains("["), "nothing is served: " + answer);
    }
  }
}
