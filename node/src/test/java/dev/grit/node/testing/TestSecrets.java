package dev.grit.node.testing;

import dev.grit.consensus.tls.MemberTls;
import dev.grit.consensus.tls.Pem;
import dev.grit.consensus.tls.TlsInit;
import dev.grit.node.NodeSecurity;
import dev.grit.node.auth.Role;
import dev.grit.node.auth.Tokens;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A test cluster's credentials, made the way a user makes them: a CA and member certificates by
 * {@code grit tls init}'s code ({@link TlsInit}) for loopback and the {@code *.grit.test} names of
 * linked process clusters, and one token per role in the members' tokens file, as {@code grit token
 * new --append} writes it. Every cluster test gets its own, so no two clusters trust each other.
 */
public final class TestSecrets {
  /** The DNS name pattern of linked process clusters' members (see {@link NodeProcesses}). */
  public static final String LINKED_DNS = "*.grit.test";

  private final Path dir;
  private final List<String> dns;
  private final Map<Role, String> tokens = new EnumMap<>(Role.class);
  private final HttpClient http;

  private TestSecrets(Path dir, List<String> dns) throws IOException {
    this.dir = dir;
    this.dns = List.copyOf(dns);
    StringBuilder file = new StringBuilder();
    for (Role role : Role.values()) {
      String token = Tokens.newToken();
      tokens.put(role, token);
      file.append(Tokens.line(token, role, "test-" + role.spelling())).append('\n');
    }
    Files.writeString(tokensFile(), file.toString());
    this.http = client(clientContext());
  }

  /** Certificates for members {@code ids} (more can be issued later) and a token per role. */
  public static TestSecrets create(Path dir, List<String> ids) {
    return create(dir, ids, List.of(LINKED_DNS));
  }

  /** As above, for members reached by the DNS names {@code dns} (and loopback). */
  public static TestSecrets create(Path dir, List<String> ids, List<String> dns) {
    try {
      init(ids, dns).run(dir, Instant.now());
      return new TestSecrets(dir, dns);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What {@code grit tls init} is told for a test cluster's members. */
  static TlsInit init(List<String> ids, List<String> dns) {
    return new TlsInit(
        "test", ids, dns, List.of("127.0.0.1"), Duration.ofDays(1), Duration.ofDays(2));
  }

  /** Issues (again) the certificate of member {@code id} from this cluster's CA. */
  public void issue(String id) {
    try {
      init(List.of(id), dns).run(dir, Instant.now());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The CA's directory (as {@code grit tls init DIR} left it). */
  public Path dir() {
    return dir;
  }

  /** What a member's {@code --tls} directory holds: ca.crt, ID.crt, ID.key, tokens. */
  public Path nodesDir() {
    return dir.resolve(TlsInit.NODES);
  }

  public Path caCert() {
    return dir.resolve("ca.crt");
  }

  public Path tokensFile() {
    return nodesDir().resolve("tokens");
  }

  public String token(Role role) {
    return tokens.get(role);
  }

  public MemberTls member(String id) {
    try {
      return MemberTls.load(nodesDir(), id);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Member {@code id}'s TLS material and the cluster's tokens, for an in-process node. */
  public NodeSecurity security(String id) {
    try {
      return new NodeSecurity(member(id), Tokens.load(tokensFile()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code grit node}'s options for these credentials. */
  public List<String> nodeArgs() {
    return List.of("--tls", nodesDir().toString());
  }

  /** A client's environment: the cluster's CA and an admin token (every command may run). */
  public Map<String, String> clientEnv() {
    return clientEnv(Role.ADMIN);
  }

  public Map<String, String> clientEnv(Role role) {
    return Map.of("GRIT_CACERT", caCert().toString(), "GRIT_TOKEN", token(role));
  }

  /** An HTTP client trusting the cluster's CA (and no other), presenting no certificate. */
  public HttpClient http() {
    return http;
  }

  /** A request to {@code url} carrying the admin token. */
  public HttpRequest.Builder request(String url) {
    return request(url, Role.ADMIN);
  }

  public HttpRequest.Builder request(String url, Role role) {
    return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token(role));
  }

  /** A TLS context trusting the cluster's CA only. */
  public SSLContext clientContext() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setCertificateEntry("ca", Pem.certificates(caCert()).get(0));
      var trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (java.security.GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static HttpClient client(SSLContext context) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .sslContext(context)
        .build();
  }
}
