package dev.grit.node.work;

import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.execute.AttemptResult;
import dev.grit.engine.execute.OutputFile;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reports are judged against what the cluster holds: a worker that has a chunk locally does not
 * send it, and a leader that lacks it (restarted on an empty disk, still repairing) asks for it
 * instead of giving the batch back.
 */
class ReporterTest {
  @Test
  void aLeaderLackingAChunkTheWorkerHoldsGetsItAndTheWholeBatchIsRecorded(@TempDir Path dir)
      throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          var leader = c.leader();
          assignToW(leader, 2);

          byte[] known = "bytes the worker already holds\n".getBytes(StandardCharsets.UTF_8);
          byte[] fresh = "bytes nobody holds yet\n".getBytes(StandardCharsets.UTF_8);
          Digest knownDigest = Digest.of(known);
          try (ChunkStore local = ChunkStore.open(dir.resolve("worker-objects"))) {
            local.putAll(List.of(new ChunkStore.Chunk(knownDigest, ByteBuffer.wrap(known))));
            assertFalse(c.chunks(0).has(knownDigest), "the leader lacks it");

            try (var reporter = new Reporter("w", leader, local, file -> {})) {
              reporter.submit(finished(1, dir.resolve("a.out"), known));
              reporter.submit(finished(2, dir.resolve("b.out"), fresh));
              reporter.start();
              Wait.until(
                  "both attempts recorded",
                  Duration.ofSeconds(60),
                  () -> state(c, 1) != TaskState.ASSIGNED && state(c, 2) != TaskState.ASSIGNED,
                  () -> "task 1 " + state(c, 1) + ", task 2 " + state(c, 2));
            }
          }
          assertEquals(TaskState.SUCCEEDED, state(c, 1), "the attempt whose chunk the leader lacked");
          assertEquals(TaskState.SUCCEEDED, state(c, 2), "the other attempt of the batch");
          assertTrue(c.chunks(0).has(knownDigest), "the worker sent the chunk the leader lacked");
          assertEquals(1, c.stateMachine(0).queries().attempts(1).size(), "no attempt was given back");
        });
  }

  /**
   * A chunk committed while a long script ran is not sent with the report; when the leader no
   * longer holds it (collected as loose meanwhile) and neither does this worker, it is read from
   * the output again rather than the attempt given back.
   */
  @Test
  void aChunkStoredEarlyAndGoneSinceIsSentFromTheOutput(@TempDir Path dir) throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          byte[] bytes =
              "bytes stored early, and collected since\n".getBytes(StandardCharsets.UTF_8);
          Files.write(dir.resolve("out"), bytes);
          var output = OutputFile.staged("out-1", ObjectLayout.of(bytes), dir.resolve("out"));
          reportAlone(c, dir, finished(1, output, Set.of(Digest.of(bytes))));
          assertEquals(TaskState.SUCCEEDED, state(c, 1));
          assertTrue(c.chunks(0).has(Digest.of(bytes)), "the leader stored the bytes");
          assertEquals(
              1, c.stateMachine(0).queries().attempts(1).size(), "no attempt was given back");
        });
  }

  @Test
  void anOutputHeldInMemoryIsStoredAsAFilesWouldBe(@TempDir Path dir) throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          byte[] held = "bytes a FUSE mount held in memory\n".getBytes(StandardCharsets.UTF_8);
          var output = OutputFile.held("out-1", ObjectLayout.of(held), held);
          reportAlone(c, dir, finished(1, output));
          assertEquals(TaskState.SUCCEEDED, state(c, 1));
          assertTrue(c.chunks(0).has(Digest.of(held)), "the leader stored the held bytes");
        });
  }

  /**
   * An output whose file changed after it was hashed: a plain directory's file is checked as it is
   * read and fails its attempt with a message naming it; a staging file grit alone writes is not
   * checked there, and the leader refuses the bytes before they are logged.
   */
  @Test
  void bytesThatChangedAfterTheyWereHashedAreNeverStored(@TempDir Path dir) throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          var leader = c.leader();
          assignToW(leader, 2);
          byte[] hashed = "the bytes that were hashed\n".getBytes(StandardCharsets.UTF_8);
          byte[] changed = "the bytes found on reading\n".getBytes(StandardCharsets.UTF_8);
          Files.write(dir.resolve("plain"), changed);
          Files.write(dir.resolve("sealed"), changed);
          var plain = OutputFile.staged("plain", ObjectLayout.of(hashed), dir.resolve("plain"));
          var sealed =
              new OutputFile("sealed", ObjectLayout.of(hashed), dir.resolve("sealed"), null, true);
          try (ChunkStore local = ChunkStore.open(dir.resolve("worker-objects"))) {
            try (var reporter = new Reporter("w", leader, local, file -> {})) {
              reporter.submit(finished(1, plain));
              reporter.start();
              Wait.until(
                  "the plain output's attempt recorded",
                  Duration.ofSeconds(60),
                  () -> state(c, 1) != TaskState.ASSIGNED,
                  () -> "task 1 " + state(c, 1));
            }
            var attempt = c.stateMachine(0).queries().attempts(1).get(0);
            assertTrue(
                String.valueOf(attempt.error()).contains("plain changed after it was hashed"),
                String.valueOf(attempt.error()));
            try (var reporter = new Reporter("w", leader, local, file -> {})) {
              reporter.submit(finished(2, sealed));
              reporter.start();
              Wait.until(
                  "the sealed output's attempt given back",
                  Duration.ofSeconds(60),
                  () -> state(c, 2) != TaskState.ASSIGNED,
                  () -> "task 2 " + state(c, 2));
            }
          }
          assertTrue(state(c, 2) != TaskState.SUCCEEDED, "task 2 " + state(c, 2));
          assertFalse(c.chunks(0).has(Digest.of(hashed)), "no chunk under the hashed name");
          assertFalse(c.chunks(0).has(Digest.of(changed)));
        });
  }

  /** Submits a run of {@code tasks} one-task steps and assigns their tasks (1, 2, ...) to "w". */
  private static void assignToW(RaftNode leader, int tasks) throws Exception {
    var steps = new ArrayList<Step>();
    var assignments = new ArrayList<AssignTasks.Assignment>();
    for (int i = 1; i <= tasks; i++) {
      steps.add(step("s" + i, "true " + i));
      assignments.add(new AssignTasks.Assignment(i, 1, "w"));
    }
    leader.submit(submit("r1", "pipe", 1000, steps.toArray(Step[]::new))).get(60, SECONDS);
    leader.submit(new AssignTasks(1100, assignments)).get(60, SECONDS);
  }

  private static TaskState state(MiniCluster c, long task) {
    return c.stateMachine(0).queries().task(task).orElseThrow().state();
  }

  private static FinishedAttempt finished(long task, Path staging, byte[] bytes) throws Exception {
    Files.write(staging, bytes);
    return finished(task, OutputFile.staged("out-" + task, ObjectLayout.of(bytes), staging));
  }

  /**
   * Assigns task 1 to worker {@code w} and reports {@code attempt} of it from a store of its own,
   * until it is recorded.
   */
  private static void reportAlone(MiniCluster c, Path dir, FinishedAttempt attempt)
      throws Exception {
    assignToW(c.leader(), 1);
    try (ChunkStore local = ChunkStore.open(dir.resolve("worker-objects"));
        var reporter = new Reporter("w", c.leader(), local, file -> {})) {
      reporter.submit(attempt);
      reporter.start();
      Wait.until(
          "the attempt recorded",
          Duration.ofSeconds(60),
          () -> state(c, 1) != TaskState.ASSIGNED,
          () -> "task 1 " + state(c, 1));
    }
  }

  private static FinishedAttempt finished(long task, OutputFile output) {
    return finished(task, output, Set.of());
  }

  private static FinishedAttempt finished(long task, OutputFile output, Set<Digest> storedEarly) {
    var result =
        new AttemptResult(
            0,
            null,
            List.of(output),
            new byte[0],
            Instant.ofEpochMilli(1200),
            Instant.ofEpochMilli(1300));
    return new FinishedAttempt(
        new AttemptRef(task, 1, "w"), result, settled -> {}, null, storedEarly);
  }
}
