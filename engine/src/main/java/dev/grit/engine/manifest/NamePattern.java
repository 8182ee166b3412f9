package dev.grit.engine.manifest;

/**
 * Whole-name matching of resource names against input patterns: {@code *} matches any run of
 * characters other than {@code /}, {@code **} any run including {@code /}, {@code ?} one
 * character other than {@code /}. Every other character matches itself.
 */
public final class NamePattern {
  private NamePattern() {}

  public static boolean isGlob(String pattern) {
    return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
  }

  public static boolean matches(String pattern, String name) {
    return match(pattern, 0, name, 0);
  }

  private static boolean match(String p, int pi, String s, int si) {
    while (pi < p.length()) {
      char c = p.charAt(pi);
      if (c == '*') {
        boolean crossesSlash = pi + 1 < p.length() && p.charAt(pi + 1) == '*';
        int next = crossesSlash ? pi + 2 : pi + 1;
        for (int k = si; k <= s.length(); k++) {
          if (match(p, next, s, k)) {
            return true;
          }
          if (k < s.length() && s.charAt(k) == '/' && !crossesSlash) {
            return false;
          }
        }
        return false;
      }
      if (si >= s.length()) {
        return false;
      }
      if (c == '?' ? s.charAt(si) == '/' : c != s.charAt(si)) {
        return false;
      }
      pi++;
      si++;
    }
    return si == s.length();
  }
}
