package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.api.TestServer;
import dev.grit.node.auth.Role;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.Grit.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client commands against an HTTPS API with tokens: what a user sees when a credential is
 * missing or wrong, and the config file that saves typing them.
 */
class ClientSecurityTest {
  @TempDir static Path dir;
  static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Result run(int exit, Map<String, String> env, String... args) throws Exception {
    Result r = new Grit(dir, env).run(args);
    assertEquals(exit, r.exit(), () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  private static Map<String, String> env(String... keyValues) {
    var env = new HashMap<String, String>();
    for (int i = 0; i < keyValues.length; i += 2) {
      env.put(keyValues[i], keyValues[i + 1]);
    }
    return env;
  }

  @Test
  void aMissingOrUnknownTokenIsSaidPlainly() throws Exception {
    String ca = server.secrets.caCert().toString();
    Result none = run(1, env("GRIT_CACERT", ca), "list", "--server", server.url());
    assertTrue(none.err().contains("not authenticated by " + server.url()), none.err());
    assertTrue(none.err().contains("missing bearer token"), none.err());
    assertTrue(none.err().contains("--token or set GRIT_TOKEN"), none.err());

    Result unknown =
        run(1, env("GRIT_CACERT", ca, "GRIT_TOKEN", "grit_nope"), "list", "--server", server.url());
    assertTrue(unknown.err().contains("unknown token"), unknown.err());
  }

  @Test
  void aReadTokenCannotSubmit() throws Exception {
    Path manifest = dir.resolve("m.toml");
    Files.writeString(manifest, "[[step]]\nname = \"a\"\nscript = \"true\"\n");
    Result denied =
        run(
            1,
            server.secrets.clientEnv(Role.READ),
            "submit",
            manifest.toString(),
            "--server",
            server.url());
    assertTrue(denied.err().contains("not allowed by"), denied.err());
    assertTrue(
        denied.err().contains("a read token may not do this; it takes submit"), denied.err());
    run(0, server.secrets.clientEnv(Role.READ), "list", "--server", server.url());
    run(
        0,
        server.secrets.clientEnv(Role.SUBMIT),
        "submit",
        manifest.toString(),
        "--server",
        server.url());
  }

  @Test
  void tlsFailuresSayWhatToDo() throws Exception {
    String token = server.secrets.token(Role.ADMIN);
    // No --cacert: the system's CAs do not know the cluster's.
    Result untrusted = run(3, env("GRIT_TOKEN", token), "list", "--server", server.url());
    assertTrue(untrusted.err().contains("not signed by a CA this client trusts"), untrusted.err());
    assertTrue(untrusted.err().contains("--cacert"), untrusted.err());

    // Plain HTTP to the HTTPS port: the node answers 400 saying so.
    String plain = server.url().replace("https://", "http://");
    Result http = run(2, server.secrets.clientEnv(), "list", "--server", plain);
    assertTrue(http.err().contains("this API speaks HTTPS"), http.err());

    // host:port alone means https.
    run(
        0,
        server.secrets.clientEnv(),
        "list",
        "--server",
        server.url().substring("https://".length()));
  }

  @Test
  void theFlagsGiveTokenAndCaAndWinOverTheEnvironment() throws Exception {
    String ca = server.secrets.caCert().toString();
    String token = server.secrets.token(Role.READ);
    run(0, env(), "list", "--server", server.url(), "--token", token, "--cacert", ca);
    run(
        0,
        env("GRIT_TOKEN", "grit_nope", "GRIT_CACERT", dir.resolve("missing.pem").toString()),
        "list",
        "--server",
        server.url(),
        "--token",
        token,
        "--cacert",
        ca);
    Result unknown =
        run(1, env(), "list", "--server", server.url(), "--token", "grit_nope", "--cacert", ca);
    assertTrue(unknown.err().contains("unknown token"), unknown.err());
  }

  @Test
  void aConfigFileGivesServerTokenAndCa() throws Exception {
    Path config = dir.resolve("client.toml");
    Files.writeString(
        config,
        "server = \""
            + server.url()
            + "\"\n"
            + "token = \""
            + server.secrets.token(Role.READ)
            + "\"\n"
            + "cacert = \""
            + server.secrets.caCert()
            + "\"\n");
    run(0, env("GRIT_CONFIG", config.toString()), "list");
    Files.writeString(config, "server = \"" + server.url() + "\"\ntokn = \"x\"\n");
    Result bad = run(2, env("GRIT_CONFIG", config.toString()), "list");
    assertTrue(bad.err().contains(config + ":2: unknown key 'tokn'"), bad.err());
  }
}
