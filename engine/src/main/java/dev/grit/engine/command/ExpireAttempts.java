package dev.grit.engine.command;

import java.util.List;

/**
 * Attempts that were lost (their node died, restarted or left): each task goes back to pending
 * for a new attempt at once. Losses do not use up the step's retry budget.
 */
public record ExpireAttempts(long at, List<Expiry> expiries) implements Command {
  public ExpireAttempts {
    expiries = List.copyOf(expiries);
  }

  public record Expiry(long taskId, int attempt, String reason) {}
}
