package dev.grit.node.work;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.execute.AttemptResult;
import java.nio.file.Path;

/**
 * An attempt that ended here and is waiting to be reported.
 *
 * @param release frees the attempt's staging files once its report is in the record
 * @param inputFile the local copy of its input, removed after the report; null for a start step
 */
record FinishedAttempt(AttemptRef ref, AttemptResult result, AutoCloseable release, Path inputFile) {}
