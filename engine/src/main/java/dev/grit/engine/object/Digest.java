package dev.grit.engine.object;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/** A SHA-256 digest: the name of an object or of a chunk. Round-trips through {@link #valueOf}. */
public final class Digest implements Comparable<Digest> {
  public static final int LENGTH = 32;
  private static final HexFormat HEX = HexFormat.of();
  public static final Digest EMPTY = of(new byte[0]);

  private final byte[] bytes;

  private Digest(byte[] bytes) {
    this.bytes = bytes;
  }

  public static Digest fromBytes(byte[] bytes) {
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, not " + bytes.length);
    }
    return new Digest(bytes.clone());
  }

  /** Parses 64 hexadecimal characters; anything else is an {@link IllegalArgumentException}. */
  public static Digest valueOf(String hex) {
    if (hex == null || hex.length() != 2 * LENGTH) {
      throw new IllegalArgumentException("not a sha256 hash (64 hex characters): " + hex);
    }
    try {
      return new Digest(HEX.parseHex(hex.toLowerCase(java.util.Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a sha256 hash (64 hex characters): " + hex);
    }
  }

  public static Digest of(byte[] data) {
    return new Digest(newSha256().digest(data));
  }

  public static Digest of(MessageDigest finished) {
    return new Digest(finished.digest());
  }

  public static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError("every JRE has SHA-256", e);
    }
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  @Override
  public String toString() {
    return HEX.formatHex(bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Digest d && Arrays.equals(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public int compareTo(Digest o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }
}
