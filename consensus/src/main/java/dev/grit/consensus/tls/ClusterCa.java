package dev.grit.consensus.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A cluster's certificate authority and the member certificates it signs, as {@code grit tls init}
 * makes them (BouncyCastle builds the certificates; keys are ECDSA P-256).
 *
 * <p>A member certificate serves both ends of mutual TLS: a member presents it as a server (Raft
 * port, HTTPS API) and as a client (to its peers' Raft ports and, for chunk fetches, their APIs),
 * so it carries both extended key usages. Its subject alternative names are the DNS names and IP
 * addresses peers and clients dial it by; {@code localhost} and {@code 127.0.0.1} are always among
 * them, for clients on the member's own machine or pod.
 *
 * <p>Files ({@link #write}, {@link Issued#write}): {@code ca.crt}, {@code ca.key} (owner-only),
 * {@code ID.crt} and {@code ID.key} (owner-only).
 */
public final class ClusterCa {
  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";

  /** Names every member certificate carries besides the ones asked for. */
  static final List<String> LOOPBACK_DNS = List.of("localhost");

  static final List<String> LOOPBACK_IPS = List.of("127.0.0.1");

  private static final String SIGNATURE = "SHA256withECDSA";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final X509Certificate certificate;
  private final PrivateKey key;

  private ClusterCa(X509Certificate certificate, PrivateKey key) {
    this.certificate = certificate;
    this.key = key;
  }

  /** A member's certificate and its private key. */
  public record Issued(String id, X509Certificate certificate, PrivateKey key) {
    /** Writes {@code DIR/ID.crt} and {@code DIR/ID.key} (owner-only). */
    public void write(Path dir) throws IOException {
      Pem.write(dir.resolve(id + ".crt"), Pem.text(certificate), false);
      Pem.write(dir.resolve(id + ".key"), Pem.text(key), true);
    }
  }

  /**
   * A new CA for the cluster {@code clusterName}, valid from {@code notBefore} for {@code
   * validity}.
   */
  public static ClusterCa create(String clusterName, Instant notBefore, Duration validity) {
    try {
      KeyPair pair = newKeyPair();
      X500Name subject =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, "grit")
              .addRDN(BCStyle.CN, "grit CA " + clusterName)
              .build();
      var ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  serial(),
                  Date.from(notBefore),
                  Date.from(notBefore.plus(validity)),
                  subject,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
              .addExtension(
                  Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new ClusterCa(sign(builder, pair.getPrivate()), pair.getPrivate());
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make a CA: " + e.getMessage(), e);
    }
  }

  /** The CA whose certificate and key {@link #write} wrote into {@code dir}. */
  public static ClusterCa load(Path dir) throws IOException {
    X509Certificate cert = Pem.certificates(dir.resolve(CA_CERT)).get(0);
    PrivateKey key = Pem.privateKey(dir.resolve(CA_KEY));
    try {
      MemberTls.checkKeyMatches(cert, key);
    } catch (GeneralSecurityException e) {
      throw new IOException(dir.resolve(CA_KEY) + " is not the key of " + dir.resolve(CA_CERT), e);
    }
    return new ClusterCa(cert, key);
  }

  /** Whether {@code dir} holds a CA's certificate and key. */
  public static boolean existsIn(Path dir) {
    return Files.isRegularFile(dir.resolve(CA_CERT)) && Files.isRegularFile(dir.resolve(CA_KEY));
  }

  /** Writes {@code DIR/ca.crt} and {@code DIR/ca.key} (owner-only). */
  public void write(Path dir) throws IOException {
    writeCertificate(dir);
    Pem.write(dir.resolve(CA_KEY), Pem.text(key), true);
  }

  /** Writes only {@code DIR/ca.crt}: what members and clients need to trust the cluster. */
  public void writeCertificate(Path dir) throws IOException {
    Pem.write(dir.resolve(CA_CERT), Pem.text(certificate), false);
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * A certificate for member {@code id}, valid from {@code notBefore} for {@code validity}, for the
   * DNS names {@code dnsNames} (wildcards such as {@code *.grit-headless.ns.svc.cluster.local} are
   * kept as they are) and the IP addresses {@code ips}, plus localhost and 127.0.0.1.
   */
  public Issued issue(
      String id, List<String> dnsNames, List<String> ips, Instant notBefore, Duration validity) {
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
      throw new IllegalArgumentException(
          "member id '" + id + "' must be 1-63 letters, digits, '.', '_' or '-'");
    }
    Instant notAfter = notBefore.plus(validity);
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      notAfter = certificate.getNotAfter().toInstant();
    }
    try {
      KeyPair pair = newKeyPair();
      var names = new ArrayList<GeneralName>();
      Set<String> dns = new LinkedHashSet<>(dnsNames);
      dns.addAll(LOOPBACK_DNS);
      for (String name : dns) {
        names.add(new GeneralName(GeneralName.dNSName, name));
      }
      Set<String> addresses = new LinkedHashSet<>(ips);
      addresses.addAll(LOOPBACK_IPS);
      for (String ip : addresses) {
        names.add(new GeneralName(GeneralName.iPAddress, ipLiteral(ip)));
      }
      X500Name subject =
          new X500NameBuilder(BCStyle.INSTANCE)
              .addRDN(BCStyle.O, "grit")
              .addRDN(BCStyle.CN, id)
              .build();
      var ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  certificate,
                  serial(),
                  Date.from(notBefore),
                  Date.from(notAfter),
                  subject,
                  pair.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(
                      new KeyPurposeId[] {
                        KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                      }))
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(names.toArray(new GeneralName[0])))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  ext.createSubjectKeyIdentifier(pair.getPublic()))
              .addExtension(
                  Extension.authorityKeyIdentifier,
                  false,
                  ext.createAuthorityKeyIdentifier(certificate));
      return new Issued(id, sign(builder, key), pair.getPrivate());
    } catch (GeneralSecurityException | IOException | OperatorCreationException e) {
      throw new IllegalStateException(
          "cannot issue a certificate for " + id + ": " + e.getMessage(), e);
    }
  }

  /** An IP address literal, never a name to look up. */
  private static String ipLiteral(String ip) {
    if (!ip.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
      throw new IllegalArgumentException("'" + ip + "' is not an IP address");
    }
    try {
      return InetAddress.getByName(ip).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + ip + "' is not an IP address");
    }
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return generator.generateKeyPair();
  }

  /** A random positive serial of 127 bits, as RFC 5280 asks (at most 20 octets, unpredictable). */
  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws OperatorCreationException, GeneralSecurityException {
    var holder = builder.build(new JcaContentSignerBuilder(SIGNATURE).build(signer));
    return new JcaX509CertificateConverter().getCertificate(holder);
  }
}
