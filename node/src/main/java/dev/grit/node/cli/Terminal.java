package dev.grit.node.cli;

/**
 * What the process's terminal allows: redrawing lines (stdout is a terminal) and colours (also
 * neither {@code NO_COLOR} set, see no-color.org, nor {@code --no-color} given).
 */
final class Terminal {
  private static volatile boolean noColorOption;

  private Terminal() {}

  /** {@code --no-color}, given to any command. */
  static void disableColor() {
    noColorOption = true;
  }

  /** Whether stdin and stdout are a terminal, so lines may be redrawn in place. */
  static boolean interactive() {
    return System.console() != null;
  }

  static boolean color() {
    return interactive() && colorAllowed(System.getenv("NO_COLOR"), noColorOption);
  }

  /** No colour once {@code NO_COLOR} is set to anything non-empty, or the option was given. */
  static boolean colorAllowed(String noColorEnv, boolean noColorOption) {
    return !noColorOption && (noColorEnv == null || noColorEnv.isEmpty());
  }
}
