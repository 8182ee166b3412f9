package dev.grit.consensus.state;

import java.util.List;

/**
 * The outcome of applying one entry.
 *
 * @param reply what the proposer is told (a run id, counts), as a short string
 * @param events what changed, for local listeners
 * @param skipped true when the entry was already in the record (replayed after a restart)
 */
public record ApplyResult(String reply, List<StateEvent> events, boolean skipped) {
  public ApplyResult {
    events = List.copyOf(events);
  }

  static ApplyResult skippedEntry() {
    return new ApplyResult("", List.of(), true);
  }
}
