package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.consensus.tls.TlsInit;
import dev.grit.node.auth.Role;
import dev.grit.node.auth.Tokens;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.Grit.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code grit tls init} and {@code grit token new}, run as a user runs them. */
class SecurityCommandsTest {
  @TempDir Path dir;

  private Result run(int exit, String... args) throws Exception {
    Result r = new Grit(dir, Map.of()).run(args);
    assertEquals(exit, r.exit(), () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  @Test
  void tlsInitMakesWhatNodesAndClientsTake() throws Exception {
    Path tls = dir.resolve("grit-tls");
    Result r =
        run(
            0,
            "tls",
            "init",
            tls.toString(),
            "--nodes",
            "3",
            "--dns",
            "*.grit-headless.grit.svc.cluster.local");
    assertTrue(r.err().contains("made a CA"), r.err());
    assertTrue(r.err().contains("--tls " + tls.resolve("nodes")), r.err());
    for (String id : new String[] {"grit-0", "grit-1", "grit-2"}) {
      MemberTls.load(tls.resolve("nodes"), id).verify(Instant.now());
    }
    r = run(0, "tls", "init", tls.toString(), "--ids", "grit-3", "--days", "30");
    assertTrue(r.err().contains("using the CA"), r.err());
    MemberTls.load(tls.resolve("nodes"), "grit-3").verify(Instant.now());

    assertTrue(run(2, "tls", "init", tls.toString()).err().contains("--nodes N or --ids"));
    assertTrue(
        run(2, "tls", "init", dir.resolve("x").toString(), "--nodes", "1", "--ip", "not-an-ip")
            .err()
            .contains("not an IP address"));
  }

  @Test
  void tokenNewPrintsTheTokenAndTheLineANodeStores() throws Exception {
    Result r = run(0, "token", "new", "--role", "submit", "--name", "ci");
    String[] lines = r.out().strip().split("\n");
    assertEquals(2, lines.length, r.out());
    var stored = Tokens.of(lines[1]).find(lines[0]).orElseThrow();
    assertEquals(Role.SUBMIT, stored.role());
    assertEquals("ci", stored.name());

    Path file = dir.resolve("nodes/tokens");
    String admin =
        run(0, "token", "new", "--role", "admin", "--append", file.toString()).out().strip();
    String reader =
        run(0, "token", "new", "--role", "read", "--append", file.toString()).out().strip();
    Tokens tokens = Tokens.load(file);
    assertEquals(Role.ADMIN, tokens.find(admin).orElseThrow().role());
    assertEquals(Role.READ, tokens.find(reader).orElseThrow().role());
    assertTrue(!Files.readString(file).contains(admin), "the file holds hashes only");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

    assertTrue(run(2, "token", "new", "--role", "root").err().contains("'root' is not a role"));
  }

  @Test
  void aNodeRefusesAnExpiredCertificateAndAnOpenAddressBeyondLoopback() throws Exception {
    Path tls = dir.resolve("tls");
    new TlsInit(
            "grit", List.of("n1"), List.of(), List.of(), Duration.ofDays(1), Duration.ofDays(365))
        .run(tls, Instant.now().minus(Duration.ofDays(3)));
    String peers = "n1=127.0.0.1:" + Ports.take();
    String http = "127.0.0.1:" + Ports.take();
    String data = dir.resolve("data").toString();
    Path nodes = tls.resolve("nodes");

    Result expired =
        run(
            1,
            "node",
            "--id",
            "n1",
            "--peers",
            peers,
            "--http",
            http,
            "--data",
            data,
            "--tls",
            nodes.toString());
    assertTrue(expired.err().contains(nodes.resolve("n1.crt") + " expired at"), expired.err());
    run(0, "tls", "init", tls.toString(), "--ids", "n1");
    Result noTokens =
        run(
            1,
            "node",
            "--id",
            "n1",
            "--peers",
            peers,
            "--http",
            http,
            "--data",
            data,
            "--tls",
            nodes.toString());
    assertTrue(
        noTokens.err().contains("no tokens file " + nodes.resolve("tokens")), noTokens.err());

    Result open =
        run(
            2,
            "node",
            "--id",
            "n1",
            "--peers",
            peers,
            "--http",
            "0.0.0.0:" + Ports.take(),
            "--data",
            data);
    assertTrue(
        open.err()
            .contains(
                "0.0.0.0 is not a loopback address: give the node TLS (--tls DIR, from grit tls"
                    + " init), or pass --insecure"),
        open.err());
    assertTrue(!Files.exists(dir.resolve("data/raft")), "nothing started");
  }
}
