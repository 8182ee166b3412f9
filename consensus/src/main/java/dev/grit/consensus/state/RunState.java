package dev.grit.consensus.state;

/**
 * The life of a run: RUNNING until nothing of it is pending or assigned. SUPERSEDED when a later
 * submission to the same pipeline took over its unfinished tasks.
 */
public enum RunState {
  RUNNING,
  SUCCEEDED,
  FAILED,
  CANCELLED,
  SUPERSEDED;

  public boolean isFinal() {
    return this != RUNNING;
  }
}
