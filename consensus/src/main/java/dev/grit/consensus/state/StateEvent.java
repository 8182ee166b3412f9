package dev.grit.consensus.state;

import java.util.List;

/**
 * What an applied entry changed, told to local listeners after its transaction commits. Events
 * are a local side effect of apply and never feed back into the record.
 */
public sealed interface StateEvent {
  /** A run was created (or a duplicate submission resolved to it). */
  record RunSubmitted(long runId, String pipeline, int tasksCreated) implements StateEvent {}

  /** Attempts now assigned to a node. */
  record AttemptsAssigned(List<AttemptRef> attempts) implements StateEvent {}

  /** Attempts that must stop because their task was cancelled or superseded. */
  record AttemptsCancelled(List<AttemptRef> attempts) implements StateEvent {}

  /** An attempt ended and the record accepted its report. */
  record AttemptEnded(
      long taskId,
      int attempt,
      long runId,
      String step,
      String node,
      TaskState taskState,
      String error,
      List<String> outputs,
      int newTasks,
      long durationMillis)
      implements StateEvent {}

  /** An attempt was lost (its node died or restarted); the task goes back to pending. */
  record AttemptLost(long taskId, int attempt, long runId, String node, String reason)
      implements StateEvent {}

  record RunEnded(long runId, RunState state) implements StateEvent {}

  /** Failed or cancelled tasks of the run are pending again; an ended run runs again. */
  record TasksRetried(long runId, List<Long> taskIds) implements StateEvent {}

  /** A quiet run got the task of a gather step over {@code inputs} resources. */
  record GatherPlanned(long runId, long taskId, String step, int inputs) implements StateEvent {}

  /**
   * The record was replaced by a snapshot from the leader: chunks of objects it points at may be
   * missing here.
   */
  record SnapshotInstalled(long index) implements StateEvent {}

  /**
   * Retention (log entry {@code index}) removed the last objects that used these chunks: their
   * bytes may go from this member's store.
   */
  record ChunksCollected(long index, List<dev.grit.engine.object.Digest> chunks)
      implements StateEvent {}

  /** One attempt of one task. */
  record AttemptRef(long taskId, int attempt, String node) {}
}
