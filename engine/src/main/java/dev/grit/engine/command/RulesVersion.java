package dev.grit.engine.command;

import java.util.Collection;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The versions of the apply rules. Every rule that can change between releases (planning,
 * versioning, back-off, ...) is chosen by the record's rules version, never by the code that
 * happens to apply an entry, so replicas running different releases still agree. A release that
 * changes a rule raises {@link #SUPPORTED} and keeps applying the old rule for older versions.
 */
public final class RulesVersion {
  /** The rules of a record that never raised its version. */
  public static final int INITIAL = 1;

  /**
   * The rules that plan gather steps: a gather task per (step version, input set), created when a
   * run is quiet; a run with gather steps ends only once each is settled. A manifest with gather
   * steps is refused by a record that follows older rules.
   */
  public static final int GATHER = 2;

  /**
   * Retention ({@link Gc}) exists, and a report whose bytes a {@link Gc} collected while it was
   * on its way is applied as a lost attempt.
   */
  public static final int RETENTION = 3;

  /**
   * The rules that apply {@link RetryTasks}: a run's failed and cancelled tasks run again and an
   * ended run runs again until it settles.
   */
  public static final int RETRY = 4;

  /**
   * Chunks an entry stored that no object names (an attempt that never reported, or whose report
   * was stale) are loose: a {@link Gc} collects those it already found loose the time before.
   */
  public static final int LOOSE_CHUNKS = 5;

  /** The highest rules version this code can apply. */
  public static final int SUPPORTED = 5;

  private RulesVersion() {}

  /**
   * The version to raise the record to: the highest every member's code supports, once every
   * member has registered and that is above {@code current}; empty otherwise. A rolling upgrade
   * thus keeps the old rules until its last member runs the new code.
   *
   * @param supportedByNode the version each registered node announced, by node id
   */
  public static OptionalInt raiseTo(
      int current, Collection<String> members, Map<String, Integer> supportedByNode) {
    int lowest = Integer.MAX_VALUE;
    for (String member : members) {
      Integer supported = supportedByNode.get(member);
      if (supported == null) {
        return OptionalInt.empty();
      }
      lowest = Math.min(lowest, supported);
    }
    return !members.isEmpty() && lowest > current ? OptionalInt.of(lowest) : OptionalInt.empty();
  }
}
