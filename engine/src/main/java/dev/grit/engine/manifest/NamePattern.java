package dev.grit.engine.manifest;

import java.util.BitSet;

/**
 * Whole-name matching of resource names against input patterns: {@code *} matches any run of
 * characters other than {@code /}, {@code **} any run including {@code /}, {@code ?} one character
 * other than {@code /}. Every other character matches itself: there are no character classes,
 * braces or escapes, so {@code [}, {@code \}, {@code .} and the like are literal.
 *
 * <p>Both kinds of star may match nothing, and {@code **} matches only what it spans: {@code
 * a/**}{@code /b} needs at least {@code a//b}, unlike {@code .gitignore}. Three or more stars in a
 * row read as {@code **} followed by {@code *}, which behaves like {@code **}.
 *
 * <p>Matching runs in time proportional to pattern length times name length whatever the pattern,
 * so a manifest cannot stall the scheduler with a pathological glob.
 */
public final class NamePattern {
  private NamePattern() {}

  public static boolean isGlob(String pattern) {
    return pattern.indexOf('*') >= 0 || pattern.indexOf('?') >= 0;
  }

  public static boolean matches(String pattern, String name) {
    if (!isGlob(pattern)) {
      return pattern.equals(name);
    }
    // A set of positions in the pattern, advanced one name character at a time (an NFA run), in
    // place of backtracking, which is exponential in the number of stars.
    int n = pattern.length();
    var states = new BitSet(n + 1);
    states.set(0);
    closeOverStars(pattern, states);
    for (int si = 0; si < name.length() && !states.isEmpty(); si++) {
      char c = name.charAt(si);
      var next = new BitSet(n + 1);
      for (int pi = states.nextSetBit(0); pi >= 0 && pi < n; pi = states.nextSetBit(pi + 1)) {
        char p = pattern.charAt(pi);
        if (p == '*') {
          if (isDoubleStar(pattern, pi)) {
            next.set(pi);
          } else if (c != '/') {
            next.set(pi);
          }
        } else if (p == '?' ? c != '/' : p == c) {
          next.set(pi + 1);
        }
      }
      closeOverStars(pattern, next);
      states = next;
    }
    return states.get(n);
  }

  /**
   * Adds to {@code states} the positions reachable without consuming a character: past a star
   * (which may match nothing). A position on a {@code **} stands for the pair, so it skips two.
   */
  private static void closeOverStars(String pattern, BitSet states) {
    for (int pi = states.nextSetBit(0);
        pi >= 0 && pi < pattern.length();
        pi = states.nextSetBit(pi + 1)) {
      if (pattern.charAt(pi) == '*') {
        states.set(pi + (isDoubleStar(pattern, pi) ? 2 : 1));
      }
    }
  }

  /**
   * True when the star at {@code pi} opens a {@code **}. Stars pair up from the left, so in {@code
   * ***} the first opens a pair and the third stands alone; the second, inside the pair, is never a
   * state of its own.
   */
  private static boolean isDoubleStar(String pattern, int pi) {
    int run = 0;
    for (int k = pi - 1; k >= 0 && pattern.charAt(k) == '*'; k--) {
      run++;
    }
    return run % 2 == 0 && pi + 1 < pattern.length() && pattern.charAt(pi + 1) == '*';
  }
}
