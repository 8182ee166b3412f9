package dev.grit.consensus.tls;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM files of certificates and private keys, read and written with BouncyCastle: keys in PKCS#8,
 * SEC1 ({@code EC PRIVATE KEY}) or PKCS#1 ({@code RSA PRIVATE KEY}) form are read alike, so keys
 * made by other tools (openssl, cert-manager) work too. Errors name the file.
 */
public final class Pem {
  private Pem() {}

  /** Every certificate in {@code file}, in order; at least one. */
  public static List<X509Certificate> certificates(Path file) throws IOException {
    return certificates(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
  }

  static List<X509Certificate> certificates(String text, String source) throws IOException {
    var out = new ArrayList<X509Certificate>();
    var converter = new JcaX509CertificateConverter();
    try (var parser = new PEMParser(new StringReader(text))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof X509CertificateHolder holder) {
          out.add(converter.getCertificate(holder));
        }
      }
    } catch (CertificateException | RuntimeException e) {
      throw new IOException(source + ": not a PEM certificate file: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IOException(source + ": holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return out;
  }

  /** The one private key in {@code file}. */
  public static PrivateKey privateKey(Path file) throws IOException {
    return privateKey(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
  }

  static PrivateKey privateKey(String text, String source) throws IOException {
    var converter = new JcaPEMKeyConverter();
    try (var parser = new PEMParser(new StringReader(text))) {
      for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
        if (o instanceof PrivateKeyInfo info) {
          return converter.getPrivateKey(info);
        }
        if (o instanceof PEMKeyPair pair) {
          return pair.getPublicKeyInfo() != null
              ? converter.getKeyPair(pair).getPrivate()
              : converter.getPrivateKey(pair.getPrivateKeyInfo());
        }
      }
    } catch (RuntimeException e) {
      throw new IOException(source + ": not a PEM private key file: " + e.getMessage(), e);
    }
    throw new IOException(
        source + ": holds no unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  }

  /** The PEM text of {@code objects}: certificates, and private keys in PKCS#8 form. */
  public static String text(Object... objects) throws IOException {
    var out = new StringWriter();
    try (var writer = new JcaPEMWriter(out)) {
      for (Object o : objects) {
        if (o instanceof PrivateKey key) {
          writer.writeObject(new JcaPKCS8Generator(key, null));
        } else {
          writer.writeObject(o);
        }
      }
    }
    return out.toString();
  }

  /**
   * Writes {@code text} to {@code file} through a temporary file and a rename, so a reader never
   * sees half a file; a private file is readable by its owner only.
   */
  public static void write(Path file, String text, boolean secret) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try {
      Files.setPosixFilePermissions(
          tmp, PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"));
      Files.writeString(tmp, text, StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
