package dev.grit.node;

import dev.grit.consensus.state.SqlState;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.SubmissionPreview.Change;
import dev.grit.engine.plan.SubmissionPreview.KnownVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The record of a data directory no process uses, read without starting its node: {@code grit
 * run} answers a rerun with nothing to do from it, without starting Raft, FUSE or the scheduler.
 *
 * <p>It is only at rest when the last node to use the directory closed it with every entry of its
 * log applied to the record: that node left a mark naming the applied index ({@link #mark}), which
 * the next node to start removes before it changes anything ({@link #forget}). A node killed, or
 * closed with entries it had not applied, leaves no mark; a run of such a directory starts the
 * node, which replays the log. The directory's lock is held while the record is read.
 */
public final class RecordAtRest implements AutoCloseable {
  private static final String MARK = "at-rest";

  private final AutoCloseable lock;
  private final StateQueries queries;

  private RecordAtRest(AutoCloseable lock, StateQueries queries) {
    this.lock = lock;
    this.queries = queries;
  }

  /**
   * The record of {@code data} when it is at rest and no other process holds the directory;
   * empty otherwise (no record, no mark, a mark of another index, the directory in use).
   */
  public static Optional<RecordAtRest> open(Path data) throws IOException {
    Path mark = data.resolve(MARK);
    Path record = data.resolve("state.db");
    if (!Files.isRegularFile(mark) || !Files.isRegularFile(record)) {
      return Optional.empty();
    }
    AutoCloseable lock = Node.tryLock(data);
    if (lock == null) {
      return Optional.empty();
    }
    StateQueries queries = null;
    try {
      long marked = Long.parseLong(Files.readString(mark, StandardCharsets.UTF_8).trim());
      queries = SqlState.openReadOnly(record);
      if (queries.appliedIndex() == marked) {
        return Optional.of(new RecordAtRest(lock, queries));
      }
    } catch (IOException | RuntimeException e) {
      // A mark cut short, or a record that cannot be read here (a schema the node upgrades at
      // start, say): the node's start will tell.
    }
    if (queries != null) {
      queries.close();
    }
    closeQuietly(lock);
    return Optional.empty();
  }

  /**
   * Whether submitting {@code manifest} as {@code pipeline} (with the run filters {@code start}
   * and {@code onlySteps}) would change nothing in the record and run nothing: no run is going
   * on, every step is the pipeline's current version and the current versions are exactly these
   * steps, and no task would be created or retried. A gather step's task is only decided once a
   * run is quiet, so a manifest with one always runs; so does a record of rules newer than this
   * build applies (its node would refuse to start), and one this build cannot read.
   */
  public boolean hasNothingToRun(
      Manifest manifest, String pipeline, String start, List<String> onlySteps) {
    try {
      return nothingToRun(manifest, pipeline, start, onlySteps);
    } catch (RuntimeException unreadable) {
      return false;
    }
  }

  private boolean nothingToRun(
      Manifest manifest, String pipeline, String start, List<String> onlySteps) {
    if (queries.rulesVersion() > RulesVersion.SUPPORTED
        || queries.anyRunRunning()
        || manifest.steps().stream().anyMatch(Step::gather)) {
      return false;
    }
    List<KnownVersion> versions = queries.stepVersions(pipeline);
    Set<String> current =
        versions.stream()
            .filter(KnownVersion::current)
            .map(v -> v.step().name())
            .collect(Collectors.toSet());
    Set<String> submitted = manifest.steps().stream().map(Step::name).collect(Collectors.toSet());
    if (!current.equals(submitted)) {
      return false;
    }
    var plan = SubmissionPlan.steps(queries, versions, manifest, pipeline, start, onlySteps);
    return plan.stream()
        .allMatch(p -> p.change() == Change.UNCHANGED && p.created() == 0 && p.retried() == 0);
  }

  @Override
  public void close() {
    queries.close();
    closeQuietly(lock);
  }

  /** Marks the record of {@code data} at rest at {@code appliedIndex}; its node has closed. */
  static void mark(Path data, long appliedIndex) throws IOException {
    Path partial = data.resolve(MARK + ".partial");
    Files.writeString(partial, appliedIndex + "\n", StandardCharsets.UTF_8);
    Files.move(partial, data.resolve(MARK), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Removes the mark: a node starts on {@code data} and may change its record from now on. */
  static void forget(Path data) throws IOException {
    Files.deleteIfExists(data.resolve(MARK));
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // Releasing a lock of a file this process opened: nothing to do about a failure.
    }
  }
}
