package dev.grit.node.cluster;

import static dev.grit.node.cluster.ClusterRunTest.awaitEnd;
import static dev.grit.node.cluster.ClusterRunTest.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.RecordingFatalErrorHandler;
import dev.grit.consensus.testing.Wait;
import dev.grit.discovery.PeerDiscovery.DiscoveryException;
import dev.grit.discovery.StaticDiscovery;
import dev.grit.node.Bootstrap;
import dev.grit.node.auth.Role;
import dev.grit.node.auth.Tokens;
import dev.grit.node.testing.NodeCluster;
import dev.grit.node.testing.NodeProcesses;
import dev.grit.node.testing.TestSecrets;
import java.math.BigInteger;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secured cluster against the outside: a node with another CA's certificate can join neither by
 * discovery nor by add-member; certificates and tokens rotate while a run goes on and nothing is
 * lost; a step's environment values never reach the nodes' logs.
 */
@Tag("slow")
class ClusterSecurityTest {
  @TempDir Path dir;

  @Test
  void aNodeOfAnotherCaJoinsNeitherByDiscoveryNorByAddMember() throws Exception {
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      var other = TestSecrets.create(dir.resolve("other"), List.of("n4"));
      var n4 = new Peer("n4", "127.0.0.1", Ports.take());
      var peers = new ArrayList<>(cluster.config(0).peers());
      peers.add(n4);
      String staticPeers =
          peers.stream().map(p -> p.id() + "=" + p.address()).collect(Collectors.joining(","));

      // Discovery finds the members, but n4 cannot ask them about their group: it waits for a
      // group it never sees, and gives up.
      var refused =
          assertThrows(
              DiscoveryException.class,
              () ->
                  Bootstrap.peers(
                      "test",
                      "n4",
                      StaticDiscovery.parse(staticPeers),
                      3,
                      dir.resolve("n4"),
                      Duration.ofSeconds(5),
                      other.member("n4")));
      assertTrue(refused.getMessage().contains("no group formed"), refused.getMessage());
      // The same discovery with a certificate of the cluster's CA sees the group at once.
      cluster.secrets.issue("n4");
      var found =
          Bootstrap.peers(
              "test",
              "n4",
              StaticDiscovery.parse(staticPeers),
              3,
              dir.resolve("n4"),
              Duration.ofSeconds(30),
              cluster.secrets.member("n4"));
      assertEquals(List.of("n1", "n2", "n3", "n4"), found.stream().map(Peer::id).toList());

      // add-member by an admin: n4 runs, with the group's members, but its certificate is of
      // another CA, so the leader cannot bring it up to date and the change fails.
      var fatal = new RecordingFatalErrorHandler();
      try (ChunkStore chunks = ChunkStore.open(dir.resolve("n4/objects"));
          RaftNode stranger =
              RaftNode.start(
                  "test",
                  "n4",
                  peers,
                  null,
                  dir.resolve("n4/raft"),
                  new GritStateMachine(dir.resolve("n4/state.db"), chunks, e -> {}, fatal),
                  other.member("n4"))) {
        var added =
            cluster
                .grit(dir)
                .run("cluster", "add-member", "n4", n4.address(), "--server", cluster.url(0));
        assertNotEquals(0, added.exit(), added::toString);
        assertTrue(added.err().contains("could not add n4"), added::toString);
        assertTrue(added.err().contains("certificate of the cluster's CA"), added::toString);
        assertEquals(
            List.of("n1", "n2", "n3"),
            cluster.node(cluster.leader()).raft().membership().members().stream()
                .map(Peer::id)
                .toList());
        assertTrue(stranger.lastAppliedIndex() < 1, "the stranger was sent entries");
      }
    }
  }

  @Test
  void certificatesAndTokensRotateWhileARunGoesOnAndNothingIsLost() throws Exception {
    String before = System.getProperty("grit.credentials.reload.millis");
    System.setProperty("grit.credentials.reload.millis", "200");
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      // Parts beyond the fourth wait for the gate: the run goes on until the test opens it.
      Path gate = dir.resolve("gate");
      String manifest =
          ClusterRunTest.MANIFEST.replace(
              "tr a-z A-Z",
              "n=${GRIT_INPUT_NAME#part_}; if [ $n -gt 4 ]; then while [ ! -e "
                  + gate
                  + " ]; do sleep 0.05; done; fi; tr a-z A-Z");
      long run = submit(cluster.node(cluster.follower()), manifest);
      Wait.until(
          "the run to be under way", Duration.ofSeconds(60), () -> succeeded(cluster, run) >= 1);

      var old = new ArrayList<BigInteger>();
      for (int i = 0; i < cluster.size(); i++) {
        old.add(apiCertificate(cluster, i).getSerialNumber());
      }
      String oldAdmin = cluster.secrets.token(Role.ADMIN);
      // New certificates from the same CA over the old files, and a tokens file that revokes
      // every old token for one new one: what updating the Kubernetes Secret does.
      for (int i = 0; i < cluster.size(); i++) {
        cluster.secrets.issue(cluster.id(i));
      }
      String newAdmin = Tokens.newToken();
      Files.writeString(
          cluster.secrets.tokensFile(), Tokens.line(newAdmin, Role.ADMIN, "rotated") + "\n");

      for (int i = 0; i < cluster.size(); i++) {
        int k = i;
        Wait.until(
            cluster.id(k) + " to present its new certificate",
            Duration.ofSeconds(30),
            () -> !old.contains(apiCertificate(cluster, k).getSerialNumber()));
        Wait.until(
            cluster.id(k) + " to take the new tokens",
            Duration.ofSeconds(30),
            () -> status(cluster, k, oldAdmin) == 401 && status(cluster, k, newAdmin) == 200);
        assertTrue(
            !old.contains(raftCertificate(cluster, k).getSerialNumber()),
            cluster.id(k) + "'s Raft port presents its new certificate");
      }
      assertTrue(succeeded(cluster, run) < taskCount(cluster, run), "the run was still going");

      // A member restarted now opens every Raft connection anew: both ends use new certificates.
      int follower = cluster.follower();
      cluster.restart(follower);
      Files.createFile(gate);

      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(cluster.leader()), run));
      assertEquals(taskCount(cluster, run), succeeded(cluster, run));
      Wait.until(
          "every member to hold every resource",
          Duration.ofSeconds(60),
          () -> {
            var expected = ClusterRunTest.resourceSet(cluster.node(0));
            for (int i = 1; i < cluster.size(); i++) {
              if (!ClusterRunTest.resourceSet(cluster.node(i)).equals(expected)) {
                return false;
              }
            }
            // 24 parts, 24 upper-cased ones, and the distinct sizes of those.
            return expected.size() > 24 + 24;
          });
      cluster.fatal.assertNone();
    } finally {
      if (before == null) {
        System.clearProperty("grit.credentials.reload.millis");
      } else {
        System.setProperty("grit.credentials.reload.millis", before);
      }
    }
  }

  @Test
  void aStepsEnvironmentValuesNeverReachTheNodesLogs() throws Exception {
    String secret = "s3cr3t-" + java.util.UUID.randomUUID();
    Path manifest = dir.resolve("env.toml");
    Files.writeString(
        manifest,
        """
        name = "env"

        [[step]]
        name = "ok"
        env = { API_KEY = "%s" }
        script = "test \\"$API_KEY\\" = %s && echo fine > $OUTPUT_DIR/out"

        [[step]]
        name = "fails"
        retries = 1
        retry_backoff = "100ms"
        env = { API_KEY = "%s" }
        script = "exit 7"
        """
            .formatted(secret, secret, secret));
    try (var cluster = NodeProcesses.start(dir.resolve("cluster"), 3)) {
      var grit = cluster.grit(dir);
      var submitted = grit.run("submit", manifest.toString(), "--server", cluster.urls(), "--wait");
      assertEquals(1, submitted.exit(), submitted::toString);
      // A rejected manifest carrying the value too.
      Path bad = dir.resolve("bad.toml");
      Files.writeString(
          bad, Files.readString(manifest).replace("name = \"ok\"", "name = \"ok\"\nparalel = 2"));
      assertEquals(2, grit.run("submit", bad.toString(), "--server", cluster.url(0)).exit());
      // A leader change: members log their hand-overs and joins.
      cluster.stop(0);
      cluster.start(0);
      for (int i = 0; i < cluster.size(); i++) {
        String log = Files.readString(dir.resolve("cluster").resolve(cluster.id(i) + ".log"));
        assertTrue(log.contains("serving https://"), cluster.tail(i));
        assertTrue(!log.contains(secret), cluster.id(i) + "'s log holds the value of API_KEY");
        for (Role role : Role.values()) {
          assertTrue(
              !log.contains(cluster.secrets.token(role)), cluster.id(i) + "'s log holds a token");
        }
      }
    }
  }

  private static long succeeded(NodeCluster cluster, long run) {
    return cluster
        .node(cluster.leader())
        .queries()
        .run(run)
        .orElseThrow()
        .count(TaskState.SUCCEEDED);
  }

  private static long taskCount(NodeCluster cluster, long run) {
    return 1 + 24 + 24;
  }

  private static int status(NodeCluster cluster, int i, String token) {
    try {
      return cluster
          .http()
          .send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(cluster.url(i) + "/v1/runs"))
                  .header("Authorization", "Bearer " + token)
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static X509Certificate apiCertificate(NodeCluster cluster, int i) {
    String address = cluster.config(i).httpAddress();
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    return presented(port, cluster.secrets.clientContext(), null);
  }

  private static X509Certificate raftCertificate(NodeCluster cluster, int i) {
    return presented(
        cluster.config(i).self().port(), cluster.secrets.member(cluster.id(0)).sslContext(), "h2");
  }

  /** The certificate the server on {@code port} presents in a new handshake. */
  private static X509Certificate presented(int port, SSLContext context, String alpn) {
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      if (alpn != null) {
        var parameters = socket.getSSLParameters();
        parameters.setApplicationProtocols(new String[] {alpn});
        socket.setSSLParameters(parameters);
      }
      socket.startHandshake();
      return (X509Certificate) socket.getSession().getPeerCertificates()[0];
    } catch (java.io.IOException e) {
      throw new AssertionError("no handshake with port " + port, e);
    }
  }
}
