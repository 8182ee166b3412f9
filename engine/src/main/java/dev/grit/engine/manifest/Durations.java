package dev.grit.engine.manifest;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The duration syntax of manifests (and of command-line flags): one or more {@code <digits><unit>}
 * parts with units {@code h}, {@code m}, {@code s}, {@code ms}, largest first, each at most once:
 * {@code "500ms"}, {@code "10s"}, {@code "1m30s"}, {@code "2h"}.
 *
 * <p>Fractions ({@code "1.5s"}) are refused rather than rounded, so the value a manifest states is
 * exactly the value used. Durations are capped at {@link #MAX} so that callers may convert them to
 * milliseconds or nanoseconds without overflow.
 */
public final class Durations {
  /** The longest duration accepted: a year. */
  public static final Duration MAX = Duration.ofHours(24L * 365);

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s)");
  private static final String[] UNITS = {"h", "m", "s", "ms"};

  private Durations() {}

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException with a message fit to show the manifest's author
   */
  public static Duration parse(String text) {
    if (text.isEmpty()) {
      throw new IllegalArgumentException(
          "empty duration; write e.g. \"10s\", \"500ms\", \"1m30s\"");
    }
    var matcher = PART.matcher(text);
    Duration total = Duration.ZERO;
    int pos = 0;
    int lastUnit = -1;
    while (pos < text.length()) {
      if (!matcher.region(pos, text.length()).lookingAt()) {
        throw new IllegalArgumentException(explain(text));
      }
      int unit = unitIndex(matcher.group(2));
      if (unit <= lastUnit) {
        throw new IllegalArgumentException(
            "\""
                + text
                + "\": units must go from largest to smallest, each at most once (h, m, s, ms)");
      }
      lastUnit = unit;
      total = total.plus(amount(text, matcher.group(1), UNITS[unit]));
      if (total.compareTo(MAX) > 0) {
        throw new IllegalArgumentException(tooLong(text));
      }
      pos = matcher.end();
    }
    return total;
  }

  /** A whole number of seconds, as a TOML integer may give a duration. */
  public static Duration ofSeconds(long seconds) {
    if (seconds < 0) {
      throw new IllegalArgumentException(seconds + " is negative");
    }
    if (seconds > MAX.getSeconds()) {
      throw new IllegalArgumentException(tooLong(Long.toString(seconds)));
    }
    return Duration.ofSeconds(seconds);
  }

  /**
   * The shortest text {@link #parse} reads back as {@code d}: {@code "1m30s"}, {@code "0s"}. Parts
   * below a millisecond are dropped, as the syntax cannot say them.
   */
  public static String format(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative duration: " + d);
    }
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    var sb = new StringBuilder();
    long[] sizes = {3_600_000, 60_000, 1_000, 1};
    for (int i = 0; i < sizes.length; i++) {
      long n = ms / sizes[i];
      ms %= sizes[i];
      if (n > 0) {
        sb.append(n).append(UNITS[i]);
      }
    }
    return sb.toString();
  }

  private static Duration amount(String text, String digits, String unit) {
    long n;
    try {
      n = Long.parseLong(digits);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(tooLong(text));
    }
    long maxInUnit =
        switch (unit) {
          case "h" -> MAX.toHours();
          case "m" -> MAX.toMinutes();
          case "s" -> MAX.getSeconds();
          default -> MAX.toMillis();
        };
    if (n > maxInUnit) {
      throw new IllegalArgumentException(tooLong(text));
    }
    return switch (unit) {
      case "h" -> Duration.ofHours(n);
      case "m" -> Duration.ofMinutes(n);
      case "s" -> Duration.ofSeconds(n);
      default -> Duration.ofMillis(n);
    };
  }

  private static int unitIndex(String unit) {
    for (int i = 0; i < UNITS.length; i++) {
      if (UNITS[i].equals(unit)) {
        return i;
      }
    }
    throw new AssertionError(unit);
  }

  private static String explain(String text) {
    if (text.matches("\\d+")) {
      return "\"" + text + "\" has no unit; write \"" + text + "s\" (or an integer for seconds)";
    }
    if (text.matches("[0-9hms]*\\.[0-9hms.]*")) {
      return "\"" + text + "\": fractions are not supported; use a smaller unit, e.g. \"1500ms\"";
    }
    return "\"" + text + "\" is not a duration; write e.g. \"10s\", \"500ms\", \"1m30s\", \"2h\"";
  }

  private static String tooLong(String text) {
    return "\"" + text + "\" is longer than the maximum of " + format(MAX);
  }
}
