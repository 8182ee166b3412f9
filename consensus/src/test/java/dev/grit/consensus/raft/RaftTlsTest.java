package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.RecordingFatalErrorHandler;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.engine.command.RegisterNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Members speak mutual TLS on the Raft port (server, client and admin services): only a holder of a
 * valid certificate of the cluster's CA may propose, read the group or be a member.
 */
class RaftTlsTest {
  @TempDir Path dir;

  @Test
  void onlyAValidCertificateOfTheClusterCaMayProposeOrAdminister() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        cluster -> {
          RaftGroup group = cluster.node(0).group();
          int port = cluster.peers().get(cluster.leaderIndex()).port();

          // A stranger without a certificate: the handshake fails, nothing is proposed. A
          // member's certificate on the same port gets the server's first HTTP/2 frame.
          assertEquals(null, handshake(port, cluster.tls(1).sslContext()), "a member is let in");
          String refused = handshake(port, clientContextTrusting(cluster.tls(0)));
          assertTrue(refused != null, "a client without a certificate completed a TLS exchange");
          assertTrue(refused.contains("SSL") || refused.equals("closed"), refused);
          assertRefused(propose(group, null, "plain-text"));

          // A certificate of another CA, and an expired one of the cluster's own CA.
          var other =
              MiniCluster.testTls(List.of("intruder")).run(dir.resolve("other"), Instant.now());
          MemberTls foreign = MemberTls.load(other.nodesDir(), "intruder");
          assertRefused(propose(group, foreign, "foreign"));
          assertRefused(groupInfo(group, foreign));
          new dev.grit.consensus.tls.TlsInit(
                  MiniCluster.CLUSTER_NAME,
                  List.of("old"),
                  List.of(),
                  List.of("127.0.0.1"),
                  Duration.ofDays(1),
                  Duration.ofDays(2))
              .run(cluster.tlsDir(), Instant.now().minus(Duration.ofDays(3)));
          MemberTls expired = MemberTls.load(cluster.tlsDir().resolve("nodes"), "old");
          assertRefused(propose(group, expired, "expired"));

          // A fresh certificate of the cluster's CA is let in: the refusals above were the TLS.
          MiniCluster.testTls(List.of("client")).run(cluster.tlsDir(), Instant.now());
          MemberTls valid = MemberTls.load(cluster.tlsDir().resolve("nodes"), "client");
          assertEquals(null, propose(group, valid, "valid"));
          cluster.awaitConverged();
          for (int i = 0; i < cluster.size(); i++) {
            var registered =
                cluster.stateMachine(i).queries().nodes().stream().map(n -> n.id()).toList();
            assertEquals(
                List.of("valid"),
                registered,
                cluster.peers().get(i).id() + " registered " + registered);
          }
        });
  }

  @Test
  void aServerOfAnotherCaCannotBeAddedToTheGroup() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        cluster -> {
          var other = MiniCluster.testTls(List.of("m3")).run(dir.resolve("other"), Instant.now());
          var peers = new ArrayList<>(cluster.peers());
          RaftNode.Peer stranger = new RaftNode.Peer("m3", "127.0.0.1", Ports.take());
          peers.add(stranger);
          var fatal = new RecordingFatalErrorHandler();
          try (ChunkStore chunks = ChunkStore.open(dir.resolve("m3/objects"));
              RaftNode m3 =
                  RaftNode.start(
                      MiniCluster.CLUSTER_NAME,
                      "m3",
                      peers,
                      null,
                      dir.resolve("m3/raft"),
                      new GritStateMachine(dir.resolve("m3/state.db"), chunks, e -> {}, fatal),
                      MemberTls.load(other.nodesDir(), "m3"))) {
            var e =
                assertThrows(
                    IOException.class, () -> cluster.leader().membership().addMember(stranger));
            assertTrue(e.getMessage().contains("could not add m3"), e.getMessage());
            assertEquals(
                cluster.peers().stream().map(RaftNode.Peer::id).toList(),
                cluster.leader().membership().members().stream().map(RaftNode.Peer::id).toList());
            assertTrue(m3.lastAppliedIndex() < 1, "the stranger was sent entries");
            assertEquals(null, m3.leaderId(), "the stranger found a leader");
          }
        });
  }

  /** Null when the proposal committed, else what failed it. */
  private static Exception propose(RaftGroup group, MemberTls tls, String id) {
    try (RaftClient client = client(group, tls)) {
      var command = CommandCodec.encode(new RegisterNode(id, "", 1, 1000));
      var reply = client.io().send(Message.valueOf(ByteString.copyFrom(command)));
      return reply.isSuccess() ? null : reply.getException();
    } catch (IOException | RuntimeException e) {
      return e;
    }
  }

  private static Exception groupInfo(RaftGroup group, MemberTls tls) {
    try (RaftClient client = client(group, tls)) {
      client
          .getGroupManagementApi(group.getPeers().iterator().next().getId())
          .info(group.getGroupId());
      return null;
    } catch (IOException | RuntimeException e) {
      return e;
    }
  }

  private static RaftClient client(RaftGroup group, MemberTls tls) {
    RaftProperties props = new RaftProperties();
    RaftConfigKeys.Rpc.setType(props, SupportedRpcType.GRPC);
    RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(3, TimeUnit.SECONDS));
    Parameters parameters = RaftTls.parameters(tls);
    return RaftClient.newBuilder()
        .setProperties(props)
        .setParameters(parameters)
        .setRaftGroup(group)
        // Enough to find the leader; a refusal is not retried into success.
        .setRetryPolicy(
            RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                5, TimeDuration.valueOf(200, TimeUnit.MILLISECONDS)))
        .build();
  }

  private static void assertRefused(Exception outcome) {
    if (outcome == null) {
      fail("the request was served");
    }
  }

  /** A context that trusts the cluster's CA but has no certificate of its own. */
  private static SSLContext clientContextTrusting(MemberTls tls) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {tls.trustManager()}, null);
    return context;
  }

  /**
   * Opens a TLS connection to the port and sends bytes through it: null when the server took them
   * and answered, else why not. With TLS 1.3 the server's refusal of a client without a certificate
   * arrives after the client thinks the handshake is done, so a read is what tells.
   */
  private static String handshake(int port, SSLContext context) {
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(5000);
      var parameters = socket.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"}); // gRPC closes a connection without
      socket.setSSLParameters(parameters);
      socket.startHandshake();
      OutputStream out = socket.getOutputStream();
      // The HTTP/2 preface gRPC expects.
      out.write(
          "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      out.flush();
      InputStream in = socket.getInputStream();
      return in.read() < 0 ? "closed" : null;
    } catch (SSLException e) {
      return e.toString();
    } catch (java.net.SocketException e) {
      // A reset while the server refuses the handshake.
      return "SSL refused: " + e;
    } catch (IOException e) {
      throw new AssertionError("cannot reach port " + port, e);
    }
  }
}
