package dev.grit.consensus.state;

/**
 * How one attempt of a task ended: RUNNING from its assignment until its report (SUCCEEDED or
 * FAILED), its loss (its node died or gave it back) or its task's cancellation.
 */
public enum AttemptOutcome {
  RUNNING,
  SUCCEEDED,
  FAILED,
  LOST,
  CANCELLED
}
