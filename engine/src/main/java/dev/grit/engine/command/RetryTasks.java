package dev.grit.engine.command;

/**
 * Runs a run's failed and cancelled tasks again, each with a fresh retry budget: all of them, or
 * only {@code taskId} when it is not {@link #ALL}. Only the pipeline's latest run can be retried
 * (an older one was superseded, and its tasks continue in the newer run), and only tasks of the
 * pipeline's current step versions. A run that had ended runs again until it settles. Applied
 * under rules {@link RulesVersion#RETRY} and later; the leader refuses it before that.
 */
public record RetryTasks(long runId, long taskId, long at) implements Command {
  /** {@link #taskId} when every failed and cancelled task of the run is retried. */
  public static final long ALL = 0;

  public boolean allOfRun() {
    return taskId == ALL;
  }
}
