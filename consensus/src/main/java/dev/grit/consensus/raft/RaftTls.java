package dev.grit.consensus.raft;

import dev.grit.consensus.tls.MemberTls;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;

/**
 * The one place where Ratis's gRPC transport gets its TLS: the server, client and admin services of
 * a member (all on its one Raft port) and the clients it uses to reach its peers.
 *
 * <p>Ratis 3.3 takes TLS only through {@link Parameters} ({@code GrpcConfigKeys.TLS.setConf},
 * {@code Server/Client/Admin.setTlsConf}, read by {@code GrpcFactory}); the {@code
 * setEnabled}/{@code set...FileName} properties of {@code GrpcConfigKeys.TLS} are read by nothing.
 * Mutual TLS: the server requires a client certificate ({@code ClientAuth.REQUIRE}) and every
 * client presents one; both sides trust only the cluster's CA. The key and trust managers are
 * {@link MemberTls}'s, which read the material loaded last at each handshake, so rotated
 * certificates take effect without a restart.
 */
public final class RaftTls {
  private RaftTls() {}

  /** Parameters for a Ratis server or client: with TLS, or empty (plain text) for null. */
  public static Parameters parameters(MemberTls tls) {
    Parameters parameters = new Parameters();
    if (tls == null) {
      return parameters;
    }
    GrpcTlsConfig conf = new GrpcTlsConfig(tls.keyManager(), tls.trustManager(), true);
    GrpcConfigKeys.TLS.setConf(parameters, conf);
    GrpcConfigKeys.Server.setTlsConf(parameters, conf);
    GrpcConfigKeys.Client.setTlsConf(parameters, conf);
    GrpcConfigKeys.Admin.setTlsConf(parameters, conf);
    return parameters;
  }
}
