package dev.grit.engine.manifest;

import java.util.Collection;
import java.util.regex.Pattern;

/** The rules for names an author chooses: pipelines, steps, environment variables, keys. */
final class Names {
  static final int MAX_LENGTH = 128;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern BARE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private Names() {}

  /**
   * Why {@code name} cannot name a pipeline or a step, or null when it can. Names end up in URLs,
   * file names and log prefixes, hence the small alphabet; "." and ".." would be read as
   * directories.
   */
  static String whyInvalid(String name) {
    if (name.isEmpty()) {
      return "must not be empty";
    }
    if (name.isBlank()) {
      return "must not be only whitespace";
    }
    if (!NAME.matcher(name).matches()) {
      return "\"" + name + "\" may contain only letters, digits, '-', '_' and '.'";
    }
    if (name.equals(".") || name.equals("..")) {
      return "\"" + name + "\" is not allowed as a name";
    }
    if (name.length() > MAX_LENGTH) {
      return "is longer than " + MAX_LENGTH + " characters";
    }
    return null;
  }

  /**
   * Why {@code key} cannot be set in the {@code env} of a step (a gather step when {@code gather}),
   * or null when it can. The variables grit sets itself are refused, because a script that
   * overrode them would read or write the wrong files; {@code INPUT_DIR} and {@code INPUT_LIST}
   * only for gather steps, the only ones grit sets them for.
   */
  static String whyInvalidEnv(String key, boolean gather) {
    if (!ENV_NAME.matcher(key).matches()) {
      return "\"" + key + "\" is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)";
    }
    if (key.equals("OUTPUT_DIR") || key.equals("INPUT_FILE") || key.startsWith("GRIT_")) {
      return key + " is set by grit itself and cannot be overridden";
    }
    if (gather && (key.equals("INPUT_DIR") || key.equals("INPUT_LIST"))) {
      return key + " is set by grit itself for a gather step and cannot be overridden";
    }
    return null;
  }

  /** {@code key} as it would be written in TOML: bare when it can be, quoted otherwise. */
  static String tomlKey(String key) {
    if (BARE_KEY.matcher(key).matches()) {
      return key;
    }
    return quote(key);
  }

  /** {@code s} in double quotes, with quotes, backslashes and control characters escaped. */
  static String quote(String s) {
    var sb = new StringBuilder("\"");
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    return sb.append('"').toString();
  }

  /**
   * The known key closest to a misspelt one, or null when none is close enough to be a likely typo.
   */
  static String closest(String unknown, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String lower = unknown.toLowerCase(java.util.Locale.ROOT);
    for (String k : known) {
      int d = distance(lower, k);
      if (d < bestDistance) {
        best = k;
        bestDistance = d;
      }
    }
    return bestDistance <= Math.min(2, Math.max(1, unknown.length() / 3)) ? best : null;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitute, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
