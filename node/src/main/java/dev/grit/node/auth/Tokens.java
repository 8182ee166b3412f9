package dev.grit.node.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API's bearer tokens as a node stores them: the SHA-256 of each token with its role, never the
 * token. A tokens file has one token a line, {@code sha256:HEX ROLE [NAME]}, as {@code grit token
 * new} prints it; blank lines and {@code #} comments are allowed.
 *
 * <p>A token is 32 random bytes, so a plain SHA-256 suffices (no password stretching: nothing to
 * guess). {@link #find} hashes the presented token and compares it with every stored hash in
 * constant time, never stopping at the first match, so timing tells nothing about which stored hash
 * shares a prefix with it. {@link #reloadIfChanged} reads the file again: tokens are added and
 * revoked without a restart.
 */
public final class Tokens {
  public static final String PREFIX = "grit_";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** One stored token: its hash, role and the name it was given (for logs; may be empty). */
  public record Entry(byte[] hash, Role role, String name) {}

  private final Path file;
  private volatile Loaded current;

  private record Loaded(String text, List<Entry> entries) {}

  private Tokens(Path file, Loaded loaded) {
    this.file = file;
    this.current = loaded;
  }

  /** The tokens of {@code file}; a malformed line fails naming the file and line. */
  public static Tokens load(Path file) throws IOException {
    String text = read(file);
    return new Tokens(file, new Loaded(text, parse(text, file.toString())));
  }

  /** Tokens held in memory only (tests, tools). */
  public static Tokens of(String text) throws IOException {
    return new Tokens(null, new Loaded(text, parse(text, "tokens")));
  }

  public Path file() {
    return file;
  }

  public int size() {
    return current.entries().size();
  }

  /**
   * Reads the file again; when it changed, its tokens replace the ones in use and true is returned.
   * A malformed file throws and leaves the tokens in use as they were.
   */
  public boolean reloadIfChanged() throws IOException {
    if (file == null) {
      return false;
    }
    String text = read(file);
    if (text.equals(current.text())) {
      return false;
    }
    current = new Loaded(text, parse(text, file.toString()));
    return true;
  }

  /** The stored token {@code token} is, if any (with the highest role when stored twice). */
  public Optional<Entry> find(String token) {
    byte[] hash = sha256(token);
    Entry found = null;
    for (Entry e : current.entries()) {
      boolean same = MessageDigest.isEqual(hash, e.hash());
      if (same && (found == null || e.role().includes(found.role()))) {
        found = e;
      }
    }
    return Optional.ofNullable(found);
  }

  /** A new token: {@code grit_} and 32 random bytes in URL-safe base64. */
  public static String newToken() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The line a tokens file holds for {@code token}. */
  public static String line(String token, Role role, String name) {
    String hash = "sha256:" + HexFormat.of().formatHex(sha256(token));
    return name == null || name.isEmpty()
        ? hash + " " + role.spelling()
        : hash + " " + role.spelling() + " " + name;
  }

  private static List<Entry> parse(String text, String source) throws IOException {
    var out = new ArrayList<Entry>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = source + ":" + (i + 1) + ": ";
      String[] fields = line.split("\\s+", 3);
      if (fields.length < 2) {
        throw new IOException(where + "expected 'sha256:HEX ROLE [NAME]'");
      }
      if (!fields[0].startsWith("sha256:") || !fields[0].substring(7).matches("[0-9a-f]{64}")) {
        throw new IOException(
            where
                + "expected a token's hash, sha256: and 64 lower-case hex digits"
                + (fields[0].startsWith(PREFIX)
                    ? " (this looks like a token itself: store its hash)"
                    : ""));
      }
      Role role;
      try {
        role = Role.parse(fields[1]);
      } catch (IllegalArgumentException e) {
        throw new IOException(where + e.getMessage());
      }
      out.add(
          new Entry(
              HexFormat.of().parseHex(fields[0].substring(7)),
              role,
              fields.length > 2 ? fields[2] : ""));
    }
    return List.copyOf(out);
  }

  private static String read(Path file) throws IOException {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException(
          "no tokens file "
              + file
              + " (make one with: grit token new --role admin --append "
              + file
              + ")");
    }
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
