package dev.grit.consensus.state;

/** The life of a task. PENDING ↔ ASSIGNED until it ends SUCCEEDED, FAILED or CANCELLED. */
public enum TaskState {
  PENDING,
  ASSIGNED,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public boolean isActive() {
    return this == PENDING || this == ASSIGNED;
  }
}
