package dev.grit.consensus.state;

/**
 * What applying one command tells its proposer: one record per kind of outcome. The leader's
 * apply makes it; it travels back to the proposing member as bytes ({@code raft.ReplyCodec}).
 */
public sealed interface Reply {
  /** {@code SubmitRun}: the run the request made, or made before (the same request id twice). */
  record RunSubmitted(long runId) implements Reply {}

  /**
   * {@code SubmitRun}: refused, nothing changed: the manifest needs newer rules than the record
   * follows (normally refused before it is logged; see {@code RunRules.submit}).
   */
  record SubmissionRefused(String reason) implements Reply {}

  /**
   * {@code AssignTasks}: how many assignments were taken, and how many were skipped because the
   * decision was made on an older view of the record.
   */
  record TasksAssigned(int assigned, int skipped) implements Reply {}

  /** {@code PutChunks}: how many chunks the entry carried (stored beside the log). */
  record ChunksStored(int chunks) implements Reply {}

  /**
   * {@code ReportResults}: how many reports were for the current attempt and were recorded, and
   * how many were stale (a lost, ended or reassigned attempt) and ignored.
   */
  record ReportsApplied(int accepted, int stale) implements Reply {}

  /** {@code ExpireAttempts}: how many attempts were still current and are now lost. */
  record AttemptsExpired(int expired) implements Reply {}

  /** {@code CancelRun}: the run was running and is cancelled now. */
  record RunCancelled(long runId) implements Reply {}

  /** {@code CancelRun}: the record has no such run. */
  record NoSuchRun(long runId) implements Reply {}

  /** {@code CancelRun}: the run had ended before the cancellation's turn in the log. */
  record RunAlreadyEnded(long runId, RunState state) implements Reply {
    public RunAlreadyEnded {
      if (!state.isFinal()) {
        throw new IllegalArgumentException("run " + runId + " is " + state + ", not ended");
      }
    }
  }

  /**
   * {@code RetryTasks}: how many failed or cancelled tasks of the run are pending again (none
   * when it had none to retry); a run that had ended is running again when any are.
   */
  record TasksRetried(long runId, int tasks) implements Reply {}

  /** {@code RetryTasks}: refused, nothing changed; {@code reason} says why. */
  record RetryRefused(String reason) implements Reply {}

  /** {@code RegisterNode}: the node's address and slots are recorded. */
  record NodeRegistered(String node) implements Reply {}

  /** {@code RaiseRulesVersion}: the rules version the record follows now. */
  record RulesFollowed(int version) implements Reply {}

  /** {@code Gc}: what retention removed from the record. */
  record Collected(int runs, int attempts, int tasks, int resources, int objects, int chunks)
      implements Reply {}

  /** {@code Gc} under rules older than retention's: nothing was removed. */
  record GcNotYet(int rulesVersion) implements Reply {}

  /** The entry was applied before a restart and is skipped now: nothing changed. */
  record AlreadyApplied() implements Reply {}

  /**
   * This reply as {@code kind}. Each command has its kinds of reply; another one means the
   * proposer and the applying member disagree on what was proposed.
   */
  default <R extends Reply> R as(Class<R> kind) {
    if (!kind.isInstance(this)) {
      throw new IllegalStateException("expected a " + kind.getSimpleName() + " reply, got " + this);
    }
    return kind.cast(this);
  }
}
