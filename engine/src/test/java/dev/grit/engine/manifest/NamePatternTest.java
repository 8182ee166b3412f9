package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NamePatternTest {
  /** pattern, name, whether it matches. Quoted cells keep spaces and commas. */
  @ParameterizedTest(name = "[{index}] \"{0}\" vs \"{1}\" -> {2}")
  @CsvSource({
    // exact names: the whole name, nothing more, nothing less, case included
    "dataset-v1, dataset-v1, true",
    "dataset-v1, dataset-v12, false",
    "dataset-v1, dataset-v, false",
    "dataset-v1, Dataset-v1, false",
    "data, my-data, false",
    "parts/001, parts/001, true",
    // * : any run without '/', including none
    "chunk_*, chunk_001, true",
    "chunk_*, chunk_, true",
    "chunk_*, chunk, false",
    "chunk_*, xchunk_1, false",
    "chunk_*, chunk_1/part, false",
    "*, anything, true",
    "*, '', true",
    "*, a/b, false",
    "*.csv, table.csv, true",
    "*.csv, dir/table.csv, false",
    "*/*.csv, dir/table.csv, true",
    "a*b*c, abc, true",
    "a*b*c, aXbYc, true",
    "a*b*c, aXbY, false",
    "a*b, a/b, false",
    // ? : exactly one character other than '/'
    "chunk_?, chunk_1, true",
    "chunk_?, chunk_12, false",
    "chunk_?, chunk_, false",
    "a?b, a/b, false",
    "??, ab, true",
    // ** : any run including '/', including none
    "**, a/b/c, true",
    "**, '', true",
    "parts/**, parts/a/b, true",
    "parts/**, parts/, true",
    "parts/**, parts, false",
    "**/x, a/b/x, true",
    "**/x, x, false",
    "a/**/b, a/x/y/b, true",
    "a/**/b, a/b, false",
    "a**b, a/x/b, true",
    "***, a/b, true",
    "****, a/b, true",
    // '/' is an ordinary character otherwise
    "a/b, a/b, true",
    "a/b, a//b, false",
    "/a, a, false",
    // everything that is not * or ? is literal: no classes, braces, escapes or regex
    "[abc], [abc], true",
    "[abc], a, false",
    "'{a,b}', a, false",
    "'{a,b}', '{a,b}', true",
    "a.b, a.b, true",
    "a.b, axb, false",
    "a+, a+, true",
    "a+, aa, false",
    "(x|y), (x|y), true",
    "(x|y), x, false",
    "^a$, ^a$, true",
    "a\\*b, a\\*b, true",
    "a\\*b, a\\xyzb, true",
    "a\\*b, a*b, false",
    "'a b', 'a b', true",
    "über-*, über-daten, true",
  })
  void matchesWholeNames(String pattern, String name, boolean expected) {
    assertEquals(expected, NamePattern.matches(pattern, name));
  }

  @Test
  void onlyStarAndQuestionMarkMakeAGlob() {
    assertTrue(NamePattern.isGlob("a*"));
    assertTrue(NamePattern.isGlob("a?"));
    assertFalse(NamePattern.isGlob("a[b]{c}.d+"));
  }

  @Test
  void manyStarsDoNotBacktrackExponentially() {
    String pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
    String name = "a".repeat(5000);
    assertTimeoutPreemptively(
        Duration.ofSeconds(5), () -> assertFalse(NamePattern.matches(pattern, name)));
    assertTimeoutPreemptively(
        Duration.ofSeconds(5),
        () -> assertFalse(NamePattern.matches("**a**a**a**a**a**a**b", "a/".repeat(2000))));
  }

  @Test
  void agreesWithAPlainBacktrackingMatcherOnRandomInputs() {
    var random = new Random(42);
    String patternAlphabet = "ab/*?";
    String nameAlphabet = "ab/";
    for (int i = 0; i < 20_000; i++) {
      String pattern = randomString(random, patternAlphabet, 7);
      String name = randomString(random, nameAlphabet, 7);
      assertEquals(
          reference(pattern, 0, name, 0),
          NamePattern.matches(pattern, name),
          "\"" + pattern + "\" vs \"" + name + "\"");
    }
  }

  private static String randomString(Random random, String alphabet, int maxLength) {
    var sb = new StringBuilder();
    int length = random.nextInt(maxLength + 1);
    for (int i = 0; i < length; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  /** The documented semantics, written as directly as possible; exponential, so small inputs. */
  private static boolean reference(String p, int pi, String s, int si) {
    if (pi == p.length()) {
      return si == s.length();
    }
    char c = p.charAt(pi);
    if (c == '*') {
      boolean both = pi + 1 < p.length() && p.charAt(pi + 1) == '*';
      int rest = both ? pi + 2 : pi + 1;
      for (int k = si; k <= s.length(); k++) {
        if (reference(p, rest, s, k)) {
          return true;
        }
        if (k < s.length() && s.charAt(k) == '/' && !both) {
          return false;
        }
      }
      return false;
    }
    if (si == s.length() || (c == '?' ? s.charAt(si) == '/' : c != s.charAt(si))) {
      return false;
    }
    return reference(p, pi + 1, s, si + 1);
  }
}
