package dev.grit.node.work;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.execute.AttemptResult;
import dev.grit.engine.object.Digest;
import java.nio.file.Path;
import java.util.Set;

/**
 * An attempt that ended here and is waiting to be reported.
 *
 * @param release frees the attempt's staging files once its report is in the record, or given up
 * @param inputFile the local copy of its input, removed after the report; null for a start step
 * @param storedEarly chunks of its outputs committed while its script wrote them ({@link
 *     EarlyChunks}), which this member may not have applied yet: the report need not send them
 */
record FinishedAttempt(
    AttemptRef ref,
    AttemptResult result,
    Release release,
    Path inputFile,
    Set<Digest> storedEarly) {

  FinishedAttempt(AttemptRef ref, AttemptResult result, Release release, Path inputFile) {
    this(ref, result, release, inputFile, Set.of());
  }

  /** Called once the attempt's end is dealt with. */
  @FunctionalInterface
  interface Release {
    /**
     * @param settled whether its end is committed (its report, or its giving back when the
     *     report failed); if not, the record may still show it assigned here
     */
    void release(boolean settled) throws Exception;
  }
}
