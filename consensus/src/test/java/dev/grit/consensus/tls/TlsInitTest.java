package dev.grit.consensus.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA and member certificates {@code grit tls init} makes, and how a member loads them. */
class TlsInitTest {
  @TempDir Path dir;

  private static TlsInit init(String... ids) {
    return new TlsInit(
        "test",
        List.of(ids),
        List.of("*.grit-headless.ns.svc.cluster.local", "{id}.example"),
        List.of("10.0.0.7"),
        Duration.ofDays(30),
        Duration.ofDays(365));
  }

  @Test
  void makesACaAndMemberCertificatesForBothEndsOfMutualTls() throws Exception {
    var result = init("grit-0", "grit-1").run(dir, Instant.now());
    assertTrue(result.newCa());
    assertEquals(dir.resolve("nodes"), result.nodesDir());
    for (String f :
        List.of(
            "ca.crt",
            "ca.key",
            "nodes/ca.crt",
            "nodes/grit-0.crt",
            "nodes/grit-0.key",
            "nodes/grit-1.key")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), f);
    }
    assertFalse(Files.exists(dir.resolve("nodes/ca.key")), "the CA key never goes to the nodes");
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key"))));
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(
            Files.getPosixFilePermissions(dir.resolve("nodes/grit-0.key"))));

    X509Certificate ca = Pem.certificates(dir.resolve("ca.crt")).get(0);
    assertTrue(ca.getBasicConstraints() >= 0, "the CA may sign");
    X509Certificate member = Pem.certificates(dir.resolve("nodes/grit-1.crt")).get(0);
    member.verify(ca.getPublicKey());
    assertEquals(-1, member.getBasicConstraints(), "a member may not sign");
    assertTrue(member.getSubjectX500Principal().getName().contains("CN=grit-1"));
    assertTrue(
        member.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")),
        "server and client authentication");
    Set<String> names = new HashSet<>();
    for (List<?> san : member.getSubjectAlternativeNames()) {
      names.add(san.get(1).toString());
    }
    assertEquals(
        Set.of(
            "*.grit-headless.ns.svc.cluster.local",
            "grit-1.example",
            "localhost",
            "10.0.0.7",
            "127.0.0.1"),
        names);
    Duration valid =
        Duration.between(member.getNotBefore().toInstant(), member.getNotAfter().toInstant());
    assertEquals(Duration.ofDays(30), valid);

    MemberTls tls = MemberTls.load(result.nodesDir(), "grit-0");
    tls.verify(Instant.now());
    assertEquals(result.issued().get(0).certificate(), tls.certificate());
  }

  @Test
  void runningItAgainKeepsTheCaAndIssuesFreshCertificates() throws Exception {
    var first = init("n1").run(dir, Instant.now());
    String caBefore = Files.readString(dir.resolve("ca.crt"));
    var second = init("n1", "n2").run(dir, Instant.now());
    assertFalse(second.newCa());
    assertEquals(caBefore, Files.readString(dir.resolve("ca.crt")));
    assertNotEquals(first.issued().get(0).certificate(), second.issued().get(0).certificate());
    second.issued().get(1).certificate().verify(first.ca().certificate().getPublicKey());
  }

  @Test
  void aMemberReloadsChangedFilesAndRefusesOnesThatDoNotAgree() throws Exception {
    var result = init("n1").run(dir, Instant.now());
    MemberTls tls = MemberTls.load(result.nodesDir(), "n1");
    var manager = tls.keyManager();
    X509Certificate before = tls.certificate();
    assertFalse(tls.reloadIfChanged(), "nothing changed");

    // A certificate from after with the key from before: refused, the old pair stays in use.
    byte[] oldKey = Files.readAllBytes(result.nodesDir().resolve("n1.key"));
    init("n1").run(dir, Instant.now());
    byte[] newKey = Files.readAllBytes(result.nodesDir().resolve("n1.key"));
    Files.write(result.nodesDir().resolve("n1.key"), oldKey);
    var refused = assertThrows(java.io.IOException.class, tls::reloadIfChanged);
    assertTrue(refused.getMessage().contains("is not the key of"), refused.getMessage());
    assertEquals(before, tls.certificate());

    Files.write(result.nodesDir().resolve("n1.key"), newKey);
    assertTrue(tls.reloadIfChanged());
    assertNotEquals(before, tls.certificate());
    String alias = manager.chooseServerAlias("EC", null, null);
    assertEquals(
        tls.certificate(), manager.getCertificateChain(alias)[0], "handed-out managers follow");
  }

  @Test
  void anExpiredCertificateOrOneOfAnotherCaFailsTheCheck() throws Exception {
    Path other = dir.resolve("other");
    init("n1").run(dir, Instant.now());
    new TlsInit(
            "test", List.of("old"), List.of(), List.of(), Duration.ofDays(1), Duration.ofDays(365))
        .run(dir, Instant.now().minus(Duration.ofDays(3)));
    var expired =
        assertThrows(
            java.io.IOException.class,
            () -> MemberTls.load(dir.resolve("nodes"), "old").verify(Instant.now()));
    assertTrue(expired.getMessage().contains("expired"), expired.getMessage());

    init("n1").run(other, Instant.now());
    Files.copy(other.resolve("nodes/n1.crt"), dir.resolve("nodes/stranger.crt"));
    Files.copy(other.resolve("nodes/n1.key"), dir.resolve("nodes/stranger.key"));
    var foreign =
        assertThrows(
            java.io.IOException.class,
            () -> MemberTls.load(dir.resolve("nodes"), "stranger").verify(Instant.now()));
    assertTrue(foreign.getMessage().contains("is not signed by the CA"), foreign.getMessage());
  }

  @Test
  void badInputIsNamed() throws Exception {
    Files.writeString(dir.resolve("ca.crt"), "not pem");
    var e = assertThrows(java.io.IOException.class, () -> Pem.certificates(dir.resolve("ca.crt")));
    assertTrue(e.getMessage().startsWith(dir.resolve("ca.crt").toString()), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> init("bad id").run(dir.resolve("x"), Instant.now()));
    var missing = assertThrows(java.io.IOException.class, () -> MemberTls.load(dir, "n1"));
    assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
  }
}
