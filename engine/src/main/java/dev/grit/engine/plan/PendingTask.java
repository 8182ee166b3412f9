package dev.grit.engine.plan;

/**
 * A task waiting for its next attempt, as the scheduler sees it.
 *
 * @param nextAttempt the number its next attempt gets
 * @param stepParallel its step's {@code parallel} limit ({@link dev.grit.engine.manifest.Step#UNLIMITED} if none)
 * @param notBefore epoch millis before which it must not start (retry back-off)
 */
public record PendingTask(
    long taskId, int nextAttempt, long stepId, long runId, int stepParallel, int priority, long notBefore) {}
