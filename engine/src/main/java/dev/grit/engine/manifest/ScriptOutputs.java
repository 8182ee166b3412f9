package dev.grit.engine.manifest;

import java.util.Set;
import java.util.TreeSet;

/**
 * What a script's text says about the resources it writes: the names it writes literally, as in
 * {@code > $OUTPUT_DIR/sorted}, and whether it may also write names that cannot be read off the
 * text.
 *
 * <p>This is a guess from the text, never an execution, and it errs towards "dynamic": any mention
 * of {@code OUTPUT_DIR} that is not followed by a plain literal name ({@code $OUTPUT_DIR/chunk_$i},
 * {@code cd $OUTPUT_DIR}, {@code os.environ["OUTPUT_DIR"]}), and any script that does not mention
 * it at all (it may run a program that reads the variable), counts as dynamic. {@link Lint} only
 * draws conclusions that hold when nothing is dynamic.
 *
 * @param literalNames output names written literally (a {@code mkdir -p $OUTPUT_DIR/parts} makes
 *     {@code parts} count too, which at worst hides a warning)
 * @param dynamic true when the script may write names other than {@code literalNames}
 */
record ScriptOutputs(Set<String> literalNames, boolean dynamic) {
  private static final String VAR = "OUTPUT_DIR";

  /** What {@link #afterReference} says of a mention that is part of another variable's name. */
  private static final int IGNORED = -2;

  ScriptOutputs {
    literalNames = Set.copyOf(literalNames);
  }

  static ScriptOutputs scan(String script) {
    var names = new TreeSet<String>();
    boolean dynamic = false;
    boolean mentioned = false;
    for (int at = script.indexOf(VAR); at >= 0; at = script.indexOf(VAR, at + VAR.length())) {
      int end = afterReference(script, at);
      if (end == IGNORED) {
        continue;
      }
      mentioned = true;
      String name = end < 0 ? null : literalName(script, end);
      if (name == null) {
        dynamic = true;
      } else {
        names.add(name);
      }
    }
    return new ScriptOutputs(names, dynamic || !mentioned);
  }

  /**
   * Where the text after the reference to {@code OUTPUT_DIR} at {@code at} starts, -1 when the
   * mention is not a plain {@code $OUTPUT_DIR} or {@code ${OUTPUT_DIR}} expansion, or {@link
   * #IGNORED} when the match is part of another name ({@code $OUTPUT_DIRS}, {@code MY_OUTPUT_DIR}).
   */
  private static int afterReference(String s, int at) {
    int end = at + VAR.length();
    boolean partOfLongerName =
        (at > 0 && isIdentifierChar(s.charAt(at - 1)))
            || (end < s.length() && isIdentifierChar(s.charAt(end)));
    if (at > 0
        && s.charAt(at - 1) == '$'
        && (end >= s.length() || !isIdentifierChar(s.charAt(end)))) {
      return end;
    }
    if (at > 1 && s.startsWith("${", at - 2)) {
      if (end < s.length() && s.charAt(end) == '}') {
        return end + 1;
      }
      // ${OUTPUT_DIR_X} is another variable; ${OUTPUT_DIR:-x} and the like are not literal.
      return end < s.length() && isIdentifierChar(s.charAt(end)) ? IGNORED : -1;
    }
    return partOfLongerName ? IGNORED : -1;
  }

  /** The literal name written at {@code from} (just after the variable), or null if none. */
  private static String literalName(String s, int from) {
    int i = from;
    if (i + 1 < s.length() && s.charAt(i) == '"' && s.charAt(i + 1) == '/') {
      i++; // "$OUTPUT_DIR"/name
    }
    if (i >= s.length() || s.charAt(i) != '/') {
      return null;
    }
    int start = ++i;
    while (i < s.length() && isNameChar(s.charAt(i))) {
      i++;
    }
    if (i < s.length() && !isTerminator(s.charAt(i))) {
      return null; // a variable, glob, brace or escape continues the name
    }
    String name = s.substring(start, i);
    while (name.startsWith("./")) {
      name = name.substring(2);
    }
    if (name.isEmpty()
        || name.endsWith("/")
        || name.contains("//")
        || name.equals(".")
        || name.equals("..")
        || name.startsWith("../")
        || name.contains("/./")
        || name.contains("/../")
        || name.endsWith("/.")
        || name.endsWith("/..")) {
      return null;
    }
    return name;
  }

  private static boolean isIdentifierChar(char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  private static boolean isNameChar(char c) {
    return isIdentifierChar(c) || "-.+@%,/".indexOf(c) >= 0;
  }

  private static boolean isTerminator(char c) {
    return Character.isWhitespace(c) || ";|&<>)\"'".indexOf(c) >= 0;
  }
}
