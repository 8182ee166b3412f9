package dev.grit.engine.command;

/**
 * The versions of the apply rules. Every rule that can change between releases (planning,
 * versioning, back-off, ...) is chosen by the record's rules version, never by the code that
 * happens to apply an entry, so replicas running different releases still agree.
 */
public final class RulesVersion {
  /** The rules of a record that never raised its version. */
  public static final int INITIAL = 1;

  /** The highest rules version this code can apply. */
  public static final int SUPPORTED = 1;

  private RulesVersion() {}
}
