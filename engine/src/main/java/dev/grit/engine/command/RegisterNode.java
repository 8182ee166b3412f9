package dev.grit.engine.command;

/**
 * A node announces itself: where its API answers and how many attempts it runs at once. The
 * leader assigns work only to registered nodes; peers fetch chunks from each other's API.
 *
 * @param httpAddress host:port of its API, or empty when it serves none (the embedded node)
 * @param rulesVersion the highest rules version its code supports ({@link RulesVersion})
 */
public record RegisterNode(String node, String httpAddress, int slots, long at, int rulesVersion)
    implements Command {
  /** A node running this code. */
  public RegisterNode(String node, String httpAddress, int slots, long at) {
    this(node, httpAddress, slots, at, RulesVersion.SUPPORTED);
  }
}
