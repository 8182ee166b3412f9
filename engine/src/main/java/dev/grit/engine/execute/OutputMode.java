package dev.grit.engine.execute;

import java.util.Locale;

/**
 * How attempts' outputs are captured: {@link #AUTO} tries FUSE and falls back to plain directories;
 * {@link #FUSE} insists (and fails when it cannot mount); {@link #PLAIN} never mounts. Chosen by
 * the system property {@value #PROPERTY}, else the environment variable {@value #ENV}, else {@link
 * #AUTO}.
 */
public enum OutputMode {
  AUTO,
  FUSE,
  PLAIN;

  public static final String PROPERTY = "grit.output";
  public static final String ENV = "GRIT_OUTPUT";

  /** The mode the property or the environment asks for; {@link #AUTO} when neither is set. */
  public static OutputMode fromEnvironment() {
    String value = System.getProperty(PROPERTY);
    String source = PROPERTY;
    if (value == null || value.isBlank()) {
      value = System.getenv(ENV);
      source = ENV;
    }
    if (value == null || value.isBlank()) {
      return AUTO;
    }
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /** {@code auto}, {@code fuse} or {@code plain}, in any case. */
  public static OutputMode parse(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "auto" -> AUTO;
      case "fuse" -> FUSE;
      case "plain" -> PLAIN;
      default ->
          throw new IllegalArgumentException(
              "the output mode is auto, fuse or plain, not \"" + value + "\"");
    };
  }
}
