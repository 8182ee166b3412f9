package dev.grit.consensus.state;

import java.util.List;

/**
 * The outcome of applying one entry.
 *
 * @param reply what the proposer is told
 * @param events what changed, for local listeners
 */
public record ApplyResult(Reply reply, List<StateEvent> events) {
  public ApplyResult {
    events = List.copyOf(events);
  }

  static ApplyResult skippedEntry() {
    return new ApplyResult(new Reply.AlreadyApplied(), List.of());
  }

  /** True when the entry was already in the record (replayed after a restart) and was skipped. */
  public boolean skipped() {
    return reply instanceof Reply.AlreadyApplied;
  }
}
