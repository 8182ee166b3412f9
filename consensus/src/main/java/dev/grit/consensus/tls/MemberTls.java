package dev.grit.consensus.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * One member's TLS identity — its certificate and key — and the cluster CA it trusts, read from PEM
 * files, for both ends of mutual TLS (Ratis gRPC, the HTTPS API, chunk fetches).
 *
 * <p>The {@link #keyManager()} and {@link #trustManager()} it hands out read the material that was
 * loaded last: {@link #reloadIfChanged()} reads the files again and, when they changed and hang
 * together (the key is the certificate's, the CA file parses), swaps the new material in. Every TLS
 * handshake after that uses it; connections already open stay as they are. So certificates rotate
 * without a restart, and a half-updated set of files (a key from before, a certificate from after)
 * is never used: it is refused until the files agree.
 */
public final class MemberTls {
  /** Where a member's material lives. */
  public record Paths(Path caCert, Path cert, Path key) {
    /**
     * The files of member {@code id} in {@code dir}: {@code ca.crt}, and {@code ID.crt} with {@code
     * ID.key} — or {@code tls.crt} with {@code tls.key} when there are none for the id (one
     * certificate per member, as a cert-manager Secret holds it).
     */
    public static Paths in(Path dir, String id) {
      Path cert = dir.resolve(id + ".crt");
      Path key = dir.resolve(id + ".key");
      if (!Files.exists(cert) && !Files.exists(key) && Files.exists(dir.resolve("tls.crt"))) {
        cert = dir.resolve("tls.crt");
        key = dir.resolve("tls.key");
      }
      return new Paths(dir.resolve(ClusterCa.CA_CERT), cert, key);
    }
  }

  /** What was loaded at once: the digest of the files' bytes and what they hold. */
  private record Loaded(
      byte[] digest,
      X509Certificate certificate,
      List<X509Certificate> authorities,
      X509ExtendedKeyManager keys,
      X509ExtendedTrustManager trust) {}

  private static final String ALIAS = "member";

  private final Paths paths;
  private volatile Loaded current;

  private MemberTls(Paths paths, Loaded loaded) {
    this.paths = paths;
    this.current = loaded;
  }

  /** Loads member material from {@code paths}; fails naming the file that is wrong. */
  public static MemberTls load(Paths paths) throws IOException {
    return new MemberTls(paths, read(paths, null));
  }

  /** Loads the material of member {@code id} from {@code dir} (see {@link Paths#in}). */
  public static MemberTls load(Path dir, String id) throws IOException {
    return load(Paths.in(dir, id));
  }

  public Paths paths() {
    return paths;
  }

  /** The member certificate in use. */
  public X509Certificate certificate() {
    return current.certificate();
  }

  /**
   * Reads the files again; when their bytes changed, loads them and returns true. A set of files
   * that does not hang together throws and leaves the material in use as it was.
   */
  public boolean reloadIfChanged() throws IOException {
    Loaded before = current;
    Loaded next = read(paths, before.digest());
    if (next == null) {
      return false;
    }
    current = next;
    return true;
  }

  /**
   * Fails with a message naming the file when the member certificate is not valid at {@code now} or
   * not signed by a CA of the CA file: a member started that way could reach no peer.
   */
  public void verify(Instant now) throws IOException {
    Loaded l = current;
    try {
      l.certificate().checkValidity(Date.from(now));
    } catch (CertificateExpiredException e) {
      throw new IOException(
          paths.cert()
              + " expired at "
              + l.certificate().getNotAfter().toInstant()
              + ": issue a new one (grit tls init with the same CA directory)");
    } catch (CertificateNotYetValidException e) {
      throw new IOException(
          paths.cert() + " is not valid before " + l.certificate().getNotBefore().toInstant());
    }
    try {
      var anchors = new HashSet<TrustAnchor>();
      for (X509Certificate ca : l.authorities()) {
        anchors.add(new TrustAnchor(ca, null));
      }
      var params = new PKIXParameters(anchors);
      params.setRevocationEnabled(false);
      params.setDate(Date.from(now));
      var path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(l.certificate()));
      CertPathValidator.getInstance("PKIX").validate(path, params);
    } catch (CertPathValidatorException e) {
      throw new IOException(
          paths.cert() + " is not signed by the CA in " + paths.caCert() + ": " + e.getMessage());
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot check " + paths.cert() + ": " + e.getMessage(), e);
    }
  }

  /** Presents the member certificate loaded last, in every handshake. */
  public X509ExtendedKeyManager keyManager() {
    return new X509ExtendedKeyManager() {
      private X509ExtendedKeyManager keys() {
        return current.keys();
      }

      @Override
      public String[] getClientAliases(String keyType, Principal[] issuers) {
        return keys().getClientAliases(keyType, issuers);
      }

      @Override
      public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return keys().chooseClientAlias(keyType, issuers, socket);
      }

      @Override
      public String chooseEngineClientAlias(
          String[] keyType, Principal[] issuers, SSLEngine engine) {
        return keys().chooseEngineClientAlias(keyType, issuers, engine);
      }

      @Override
      public String[] getServerAliases(String keyType, Principal[] issuers) {
        return keys().getServerAliases(keyType, issuers);
      }

      @Override
      public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return keys().chooseServerAlias(keyType, issuers, socket);
      }

      @Override
      public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return keys().chooseEngineServerAlias(keyType, issuers, engine);
      }

      @Override
      public X509Certificate[] getCertificateChain(String alias) {
        return keys().getCertificateChain(alias);
      }

      @Override
      public PrivateKey getPrivateKey(String alias) {
        return keys().getPrivateKey(alias);
      }
    };
  }

  /**
   * Trusts certificates signed by a CA of the CA file loaded last (and valid now). The engine and
   * socket variants pass through, so a client's check of the server's host name stays.
   */
  public X509ExtendedTrustManager trustManager() {
    return new X509ExtendedTrustManager() {
      private X509ExtendedTrustManager trust() {
        return current.trust();
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
          throws CertificateException {
        trust().checkClientTrusted(chain, authType, socket);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
          throws CertificateException {
        trust().checkServerTrusted(chain, authType, socket);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        trust().checkClientTrusted(chain, authType, engine);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        trust().checkServerTrusted(chain, authType, engine);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType)
          throws CertificateException {
        trust().checkClientTrusted(chain, authType);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType)
          throws CertificateException {
        trust().checkServerTrusted(chain, authType);
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return trust().getAcceptedIssuers();
      }
    };
  }

  /** A TLS context presenting this member's certificate and trusting the cluster CA (clients). */
  public SSLContext sslContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(
          new javax.net.ssl.KeyManager[] {keyManager()},
          new javax.net.ssl.TrustManager[] {trustManager()},
          new SecureRandom());
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no TLS in this Java runtime: " + e.getMessage(), e);
    }
  }

  /** Fails unless {@code key} is the private key of {@code certificate}'s public key. */
  static void checkKeyMatches(X509Certificate certificate, PrivateKey key)
      throws GeneralSecurityException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "EC", "ECDSA" -> "SHA256withECDSA";
          case "RSA" -> "SHA256withRSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default ->
              throw new GeneralSecurityException("unsupported key type " + key.getAlgorithm());
        };
    byte[] challenge = new byte[32];
    new SecureRandom().nextBytes(challenge);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(challenge);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(challenge);
    if (!verifier.verify(signature)) {
      throw new GeneralSecurityException("the key does not belong to the certificate");
    }
  }

  /** Reads and builds the material; null when the files' bytes equal {@code unlessDigest}. */
  private static Loaded read(Paths paths, byte[] unlessDigest) throws IOException {
    String caText = readText(paths.caCert());
    String certText = readText(paths.cert());
    String keyText = readText(paths.key());
    byte[] digest;
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(caText.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      sha.update((byte) 0);
      sha.update(certText.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      sha.update((byte) 0);
      sha.update(keyText.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      digest = sha.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    if (unlessDigest != null && MessageDigest.isEqual(digest, unlessDigest)) {
      return null;
    }
    List<X509Certificate> authorities = Pem.certificates(caText, paths.caCert().toString());
    List<X509Certificate> chain = Pem.certificates(certText, paths.cert().toString());
    PrivateKey key = Pem.privateKey(keyText, paths.key().toString());
    try {
      checkKeyMatches(chain.get(0), key);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          paths.key() + " is not the key of " + paths.cert() + " (" + e.getMessage() + ")");
    }
    try {
      KeyStore keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      char[] password = new char[0];
      keyStore.setKeyEntry(ALIAS, key, password, chain.toArray(new X509Certificate[0]));
      var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, password);

      KeyStore trustStore = KeyStore.getInstance("PKCS12");
      trustStore.load(null, null);
      Set<String> seen = new HashSet<>();
      for (X509Certificate ca : authorities) {
        String name = "ca-" + HexFormat.of().formatHex(ca.getSerialNumber().toByteArray());
        if (seen.add(name)) {
          trustStore.setCertificateEntry(name, ca);
        }
      }
      var tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trustStore);
      return new Loaded(
          digest,
          chain.get(0),
          List.copyOf(authorities),
          (X509ExtendedKeyManager) kmf.getKeyManagers()[0],
          (X509ExtendedTrustManager) tmf.getTrustManagers()[0]);
    } catch (GeneralSecurityException | IOException e) {
      throw new IOException(
          "cannot use " + paths.cert() + " with " + paths.caCert() + ": " + e.getMessage(), e);
    }
  }

  private static String readText(Path file) throws IOException {
    try {
      return Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException(file + ": no such file");
    }
  }
}
