package dev.grit.consensus.raft;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.bytes;
import static dev.grit.consensus.testing.TestCommands.expire;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static dev.grit.consensus.testing.TestCommands.upload;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.Reply.ChunksStored;
import dev.grit.consensus.state.Reply.ReportsApplied;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.StateDump;
import dev.grit.consensus.testing.TestCommands.ChunkUpload;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** The state machine inside real Ratis groups on loopback: write path, rejection, restart. */
class GritStateMachineTest {
  private static final String P = "pipe";

  private static Reply send(RaftNode node, Command command) throws Exception {
    return node.submit(command).get(60, SECONDS);
  }

  private static Reply send(RaftNode node, ChunkUpload upload) throws Exception {
    return node.submit(upload.command(), upload.data()).get(60, SECONDS);
  }

  /** The proposal's failure, which must be a rejection. */
  private static CommandRejectedException rejected(
      RaftNode node, Command command, ByteString data) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> node.submit(command, data).get(60, SECONDS));
    return assertInstanceOf(CommandRejectedException.class, e.getCause(), "cause of " + e);
  }

  /** The proposal's failure, which must name the chunks the leader lacks. */
  private static ChunksMissingException lacking(RaftNode node, Command command) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> node.submit(command).get(60, SECONDS));
    return assertInstanceOf(ChunksMissingException.class, e.getCause(), "cause of " + e);
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] readAll(ChunkStore store, ObjectLayout layout) throws Exception {
    try (InputStream in = store.open(layout)) {
      return in.readAllBytes();
    }
  }

  // ---- one node ----------------------------------------------------------------------------

  @Test
  void aSubmissionIsAppliedAndAnsweredWithItsRun() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();

          assertEquals(new RunSubmitted(1), send(node, submit("r1", P, 1000, step("gen", "x"))));
          assertEquals(
              new RunSubmitted(1), send(node, submit("r1", P, 1000, step("gen", "x"))), "same request");
          assertEquals(new RunSubmitted(2), send(node, submit("r2", "other", 1000, step("gen", "x"))));

          var run = c.stateMachine(0).queries().run(1).orElseThrow();
          assertEquals(RunState.RUNNING, run.state());
          assertEquals(1, run.count(TaskState.PENDING));
          var submitted =
              c.events(0).stream().filter(e -> e instanceof StateEvent.RunSubmitted).toList();
          assertEquals(
              List.of(
                  new StateEvent.RunSubmitted(1, P, 1),
                  new StateEvent.RunSubmitted(1, P, 0),
                  new StateEvent.RunSubmitted(2, "other", 1)),
              submitted);
        });
  }

  @Test
  void putChunksStoresTheBytesAndTheObjectReadsBackVerified() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          byte[] data = randomBytes(9 * 1024 * 1024, 1);
          ObjectLayout layout = ObjectLayout.of(data);
          ChunkUpload upload = upload(data);
          assertEquals(layout.chunks(), upload.digests());

          assertEquals(new ChunksStored(3), send(node, upload));

          ChunkStore store = c.chunks(0);
          assertTrue(store.hasAll(layout));
          assertArrayEquals(data, readAll(store, layout));
          assertEquals(data.length, store.storedBytes());
        });
  }

  @Test
  void putChunksWhoseBytesDoNotMatchTheirNamesIsRejectedAndNothingIsStored() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          send(node, submit("r1", P, 1000, step("gen", "x")));
          // Ratis logs entries of its own (commit-index metadata) at any time: the record's applied
          // index, which only commands move, shows whether a command was logged.
          long applied = c.stateMachine(0).appliedIndex();
          String dump = c.dump(0);
          byte[] named = bytes("the bytes the header names");
          byte[] sent = named.clone();
          sent[3] ^= 1; // one bit differs
          var header = new PutChunks(List.of(new PutChunks.Chunk(Digest.of(named), named.length)));

          CommandRejectedException e = rejected(node, header, ByteString.copyFrom(sent));
          assertTrue(e.getMessage().contains("does not hash"), e.getMessage());
          // Fewer bytes than the header announces.
          rejected(node, header, ByteString.copyFrom(named, 0, 5));
          // More.
          rejected(node, header, ByteString.copyFrom(sent).concat(ByteString.copyFrom(named)));

          assertFalse(c.chunks(0).has(Digest.of(named)));
          assertFalse(c.chunks(0).has(Digest.of(sent)));
          assertEquals(0, c.chunks(0).storedBytes());
          assertEquals(applied, c.stateMachine(0).appliedIndex(), "nothing was logged");
          assertEquals(dump, c.dump(0));
        });
  }

  @Test
  void aReportPointingAtAChunkNeverStoredIsRejectedUntilTheChunkIsStored() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          send(node, submit("r1", P, 1000, step("gen", "x")));
          send(node, assign(1100, 1, 1, "n1"));
          // Ratis logs entries of its own (commit-index metadata) at any time: the record's applied
          // index, which only commands move, shows whether a command was logged.
          long applied = c.stateMachine(0).appliedIndex();
          String dump = c.dump(0);
          byte[] out = randomBytes(70_000, 2);
          ReportResults report = results(success(1, 1, "n1", 2000, output("result", out)));

          assertEquals(ObjectLayout.of(out).chunks(), lacking(node, report).missing());
          assertEquals(applied, c.stateMachine(0).appliedIndex(), "nothing was logged");
          assertEquals(dump, c.dump(0));
          var task = c.stateMachine(0).queries().task(1).orElseThrow();
          assertEquals(TaskState.ASSIGNED, task.state());

          // A log whose chunk is missing is refused the same way.
          var missingLog =
              new ReportResults(
                  List.of(
                      new ReportResults.Report(
                          1,
                          1,
                          "n1",
                          0,
                          null,
                          List.of(),
                          ObjectLayout.of(bytes("log")),
                          1000,
                          2000,
                          0)));
          assertEquals(missingLog.reports().get(0).log().chunks(), lacking(node, missingLog).missing());

          // Once the bytes are in the cluster, the same report is accepted.
          send(node, upload(out));
          assertEquals(new ReportsApplied(1, 0), send(node, report));
          var queries = c.stateMachine(0).queries();
          assertEquals(TaskState.SUCCEEDED, queries.task(1).orElseThrow().state());
          assertEquals(Digest.of(out), queries.resourcesNamed("result", P).get(0).hash());
          assertEquals(RunState.SUCCEEDED, queries.run(1).orElseThrow().state());
        });
  }

  @Test
  void malformedOrInvalidProposalsAreRejectedBeforeTheyAreLogged() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          send(node, submit("r1", P, 1000, step("gen", "x")));
          // Ratis logs entries of its own (commit-index metadata) at any time: the record's applied
          // index, which only commands move, shows whether a command was logged.
          long applied = c.stateMachine(0).appliedIndex();
          String dump = c.dump(0);

          try (RaftClient client = c.newClient()) {
            for (byte[] garbage :
                List.of(
                    new byte[0], new byte[] {99, 1}, new byte[] {1, 7}, new byte[] {4, 1, 0, 0})) {
              assertFalse(
                  accepted(client, garbage), "raw message " + java.util.Arrays.toString(garbage));
            }
          }
          // A manifest without steps.
          var noSteps = new SubmitRun("r2", P, "s", "m", List.of(), 1, null, List.of(), 0);
          assertTrue(rejected(node, noSteps, null).getMessage().contains("at least one step"));
          // Fields whose absence would make every replica fail to apply the entry.
          rejected(node, new AssignTasks(1, List.of(new AssignTasks.Assignment(1, 1, null))), null);
          rejected(
              node,
              new SubmitRun(null, P, "s", "m", List.of(step("a", "x")), 1, null, List.of(), 0),
              null);
          rejected(
              node,
              results(
                  new ReportResults.Report(
                      1, 1, null, 0, null, List.of(), ObjectLayout.of(new byte[0]), 0, 1, 0)),
              null);

          assertEquals(applied, c.stateMachine(0).appliedIndex(), "nothing was logged");
          assertEquals(dump, c.dump(0));
          // The group still works.
          assertEquals(new RunSubmitted(2), send(node, submit("r2", P, 2000, step("gen", "x"))));
        });
  }

  @Test
  void aManifestWithGatherStepsIsRefusedBeforeItIsLoggedUntilTheRulesPlanThem() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          send(node, new RegisterNode("old", "127.0.0.1:1", 1, 10, RulesVersion.INITIAL));
          long applied = c.stateMachine(0).appliedIndex();
          String dump = c.dump(0);
          var gathering =
              submit(
                  "r1",
                  P,
                  1000,
                  step("split", "x"),
                  dev.grit.consensus.testing.TestCommands.gather("total", "y", "chunk_*"));
          String why = rejected(node, gathering, null).getMessage();
          assertTrue(
              why.contains(
                  "the manifest has gather steps (total), which need rules version 2, and the"
                      + " cluster still follows rules version 1: upgrade the members still on an"
                      + " older release (old)"),
              why);
          assertEquals(applied, c.stateMachine(0).appliedIndex(), "nothing was logged");
          assertEquals(dump, c.dump(0));

          // The old member upgraded: the leader raises the rules shortly, so it says so.
          send(node, new RegisterNode("old", "127.0.0.1:1", 1, 20, RulesVersion.SUPPORTED));
          why = rejected(node, gathering, null).getMessage();
          assertTrue(why.contains("every member supports it"), why);

          send(node, new RaiseRulesVersion(RulesVersion.GATHER, 30));
          assertEquals(new RunSubmitted(1), send(node, gathering));
          var view = c.stateMachine(0).queries();
          assertTrue(view.task(1).orElseThrow().step().name().equals("split"));
          assertTrue(view.task(2).isEmpty(), "the gather step waits for split");
        });
  }

  /**
   * True when the group took the raw message; a rejection may come as a reply or as an exception.
   */
  private static boolean accepted(RaftClient client, byte[] message) {
    try {
      RaftClientReply reply = client.io().send(Message.valueOf(ByteString.copyFrom(message)));
      return reply.isSuccess();
    } catch (java.io.IOException e) {
      return false;
    }
  }

  // ---- restart -----------------------------------------------------------------------------

  /** Proposes a small history touching every table; returns the bytes of the uploaded object. */
  private static byte[] history(RaftNode node) throws Exception {
    byte[] out = randomBytes(50_000, 3);
    send(node, submit("r1", P, 1000, step("gen", "x"), step("map", "y", "chunk_*")));
    send(node, assign(1100, 1, 1, "n1"));
    send(node, results(success(1, 7, "n1", 1200))); // stale
    send(node, upload(out));
    send(
        node,
        results(success(1, 1, "n1", 2000, output("chunk_1", out), output("chunk_2", bytes("")))));
    send(node, assign(2100, 2, 1, "n2"));
    send(node, expire(2200, 2, 1, "n2 silent"));
    send(node, assign(2300, 2, 2, "n1"));
    return out;
  }

  @Test
  void aRestartedNodeHasTheSameRecordAndAppliesNothingTwice() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          byte[] object = history(c.leader());
          String dump = c.dump(0);
          long applied = c.stateMachine(0).appliedIndex();
          assertEquals(1, c.stateMachine(0).queries().counter("stale_reports"));

          c.kill(0);
          assertEquals(dump, c.dump(0), "the record of a stopped node is as it was");
          c.restart(0);
          RaftNode node = c.leader();
          c.awaitConverged();

          assertEquals(dump, c.dump(0));
          assertEquals(applied, c.stateMachine(0).appliedIndex());
          assertEquals(List.of(), c.events(0), "replayed entries are skipped and tell nothing");
          var queries = c.stateMachine(0).queries();
          assertEquals(1, queries.counter("stale_reports"));
          assertEquals(2, queries.attempts(2).size());
          assertArrayEquals(object, readAll(c.chunks(0), ObjectLayout.of(object)));

          // It goes on from where it was.
          assertEquals(new ReportsApplied(1, 0), send(node, results(success(2, 2, "n1", 3000))));
          assertNotEquals(dump, c.dump(0));
          assertTrue(c.stateMachine(0).appliedIndex() > applied);
        });
  }

  @Test
  void aLogSplitIntoManyTermsIsSnapshottedAndPurgedOnceCaughtUp() throws Exception {
    System.setProperty("grit.raft.segments.max", "3");
    try {
      MiniCluster.runWithNewCluster(
          1,
          c -> {
            // A group of one starts a new term at every start, which closes the last segment.
            for (int i = 1; i <= 5; i++) {
              send(c.leader(), submit("r" + i, P, 1000L * i, step("gen", "x" + i)));
              c.restart(0);
              c.leader();
              c.awaitConverged();
            }
            long before = closedSegments(c);
            assertTrue(before > 3, before + " closed segments");
            assertFalse(c.node(0).logStartIndex() > 0, "nothing purged yet");
            String dump = c.dump(0);

            assertTrue(c.node(0).compactFragmentedLog());
            // Ratis's log worker purges the segments below the snapshot after it is taken.
            Wait.until(
                "the log purged below the snapshot",
                Duration.ofSeconds(30),
                () -> closedSegments(c) <= 1 && c.node(0).logStartIndex() > 0,
                () -> closedSegments(c) + " closed segments, start " + c.node(0).logStartIndex());
            assertFalse(c.node(0).compactFragmentedLog(), "a second call has nothing to do");

            // The record is whole after a start from the snapshot and what is left of the log.
            c.restart(0);
            c.leader();
            c.awaitConverged();
            assertEquals(dump, c.dump(0));
            assertEquals(
                new RunSubmitted(6), send(c.leader(), submit("r6", P, 6000, step("gen", "x6"))));
          });
    } finally {
      System.clearProperty("grit.raft.segments.max");
    }
  }

  /**
   * Counts names only: Ratis's log worker deletes purged segments concurrently, and a walk that
   * reads each file's attributes fails on one deleted between listing and reading.
   */
  private static long closedSegments(MiniCluster c) {
    try (var groups = Files.list(c.dataDir(0).resolve("raft"))) {
      long count = 0;
      for (Path group : groups.toList()) {
        Path current = group.resolve("current");
        if (!Files.isDirectory(current)) {
          continue;
        }
        try (var names = Files.list(current)) {
          count +=
              names.filter(f -> f.getFileName().toString().matches("log_\\d+-\\d+")).count();
        }
      }
      return count;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aNodeWithoutItsRecordRestoresItFromTheSnapshotAndTheLogTail() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          RaftNode node = c.leader();
          history(node);
          c.awaitConverged();
          long snapshotIndex = c.takeSnapshot(0);
          assertTrue(
              snapshotIndex >= c.stateMachine(0).appliedIndex(), "snapshot at " + snapshotIndex);
          // The log tail after the snapshot.
          send(node, submit("r2", "second", 3000, step("gen", "z")));
          send(node, assign(3100, 3, 1, "n3"));
          send(node, results(success(2, 2, "n1", 3200)));
          String dump = c.dump(0);
          long applied = c.stateMachine(0).appliedIndex();

          c.kill(0);
          StateDump.deleteStateFiles(c.stateFile(0));
          c.restart(0);
          c.leader();
          c.awaitConverged();

          assertEquals(dump, c.dump(0));
          assertEquals(applied, c.stateMachine(0).appliedIndex());
          var queries = c.stateMachine(0).queries();
          assertEquals(
              1, queries.counter("stale_reports"), "the snapshot's entries are not replayed");
          assertEquals(TaskState.ASSIGNED, queries.task(3).orElseThrow().state());
        });
  }

  // ---- three nodes -------------------------------------------------------------------------

  @Test
  void chunksReachEveryReplicaAndALaggingFollowerCatchesUp() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int leader = c.leaderIndex();
          List<Integer> followers = c.followers();
          assertEquals(2, followers.size());
          int proposer = followers.get(0);
          int lagging = followers.get(1);

          byte[] first = randomBytes(300_000, 4);
          ChunkUpload firstUpload = upload(first, 64 * 1024);
          assertEquals(new ChunksStored(5), send(c.node(proposer), firstUpload));
          send(
              c.node(proposer),
              submit("r1", P, 1000, step("gen", "x"), step("map", "y", "part_*")));
          c.awaitConverged();
          for (int i = 0; i < 3; i++) {
            for (Digest d : firstUpload.digests()) {
              assertTrue(c.chunks(i).has(d), "member " + i + " lacks chunk " + d);
            }
          }

          c.kill(lagging);
          // While it is down: uploads in small chunks (from both running members), then the same
          // bytes as objects, and a task that publishes them.
          var objects = new ArrayList<byte[]>();
          var smallChunks = new ArrayList<Digest>();
          for (int k = 0; k < 6; k++) {
            byte[] bytes = randomBytes(200_000 + k, 10 + k);
            objects.add(bytes);
            ChunkUpload u = upload(bytes, 50_000);
            smallChunks.addAll(u.digests());
            send(c.node(k % 2 == 0 ? leader : proposer), u);
            send(c.node(proposer), upload(bytes));
          }
          String worker = c.peers().get(proposer).id();
          send(c.node(proposer), assign(2000, 1, 1, worker));
          var outputs = new ArrayList<ReportResults.Output>();
          for (int k = 0; k < objects.size(); k++) {
            outputs.add(output("part_" + k, objects.get(k)));
          }
          assertEquals(
              new ReportsApplied(1, 0),
              send(
                  c.node(proposer),
                  results(
                      success(1, 1, worker, 3000, outputs.toArray(new ReportResults.Output[0])))));

          c.restart(lagging);
          c.awaitConverged();

          ChunkStore caughtUp = c.chunks(lagging);
          for (Digest d : smallChunks) {
            assertTrue(caughtUp.has(d), "the restarted follower lacks chunk " + d);
          }
          for (int k = 0; k < objects.size(); k++) {
            assertArrayEquals(
                objects.get(k), readAll(caughtUp, outputs.get(k).layout()), "part_" + k);
          }
          String leaderDump = c.dump(leader);
          for (int i = 0; i < 3; i++) {
            assertEquals(leaderDump, c.dump(i), "record of member " + i);
          }
          assertEquals(
              6, c.stateMachine(lagging).queries().run(1).orElseThrow().count(TaskState.PENDING));
          c.fatal().assertNone();
        });
  }

  @Test
  void aLaggingFollowerGetsChunkBytesReadBackFromTheLeadersStore() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int lagging = c.followers().get(0);
          var uploads = uploadWithout(c, lagging, 4, 150_000, 60_000, 30);
          restartAllBut(c, lagging);
          c.restart(lagging);
          c.awaitConverged();

          for (ChunkUpload u : uploads) {
            for (Digest d : u.digests()) {
              assertTrue(c.chunks(lagging).has(d), "the lagging follower lacks chunk " + d);
            }
            byte[] expected = u.data().toByteArray();
            var got = new java.io.ByteArrayOutputStream();
            for (Digest d : u.digests()) {
              got.write(c.chunks(lagging).get(d));
            }
            assertArrayEquals(expected, got.toByteArray());
          }
          String dump = c.dump(c.leaderIndex());
          for (int i = 0; i < 3; i++) {
            assertEquals(dump, c.dump(i), "record of member " + i);
          }
        });
  }

  /**
   * Kills member {@code lagging} once it has the record so far, then logs {@code count} uploads of
   * {@code size} random bytes (chunks of {@code chunk}) without it.
   */
  private static List<ChunkUpload> uploadWithout(
      MiniCluster c, int lagging, int count, int size, int chunk, int seed) throws Exception {
    send(c.leader(), submit("r1", P, 1000, step("gen", "x")));
    c.awaitConverged();
    c.kill(lagging);
    var uploads = new ArrayList<ChunkUpload>();
    for (int k = 0; k < count; k++) {
      ChunkUpload u = upload(randomBytes(size, seed + k), chunk);
      uploads.add(u);
      send(c.leader(), u);
    }
    return uploads;
  }

  /**
   * Restarts every member but {@code lagging} and returns them. Restarted members load their logs
   * from disk, where entries are kept without their chunk bytes: to send them on, the leader must
   * read the bytes back from its chunk store.
   */
  private static List<Integer> restartAllBut(MiniCluster c, int lagging) throws IOException {
    List<Integer> others = new ArrayList<>(List.of(0, 1, 2));
    others.remove(Integer.valueOf(lagging));
    c.kill(others.get(0), others.get(1));
    c.restart(others.get(0));
    c.restart(others.get(1));
    c.leader();
    return others;
  }

  /**
   * The leader's log appender waits for an entry's bytes only until its next heartbeat is due, then
   * asks again. Reads slower than that (here a slow disk, injected) still bring a lagging follower
   * along: each ask joins the read already under way instead of starting one more.
   */
  @Test
  void aFollowerCatchesUpThroughReadsSlowerThanTheLeadersHeartbeat() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int lagging = c.followers().get(0);
          var uploads = uploadWithout(c, lagging, 3, 100_000, 50_000, 50);
          for (int i : restartAllBut(c, lagging)) {
            c.stateMachine(i).slowReadsMillis = 500; // heartbeats go every 75 ms or so
          }

          c.restart(lagging);
          c.awaitConverged();

          for (ChunkUpload u : uploads) {
            for (Digest d : u.digests()) {
              assertTrue(c.chunks(lagging).has(d), "the lagging follower lacks chunk " + d);
            }
          }
          assertEquals(c.dump(c.leaderIndex()), c.dump(lagging));
        });
  }

  /**
   * A follower whose log append failed (here its chunk write, injected) gets the entries again
   * from the leader and catches up: one failed append must not stop every later one.
   */
  @Test
  void aFollowerWhoseLogAppendFailedCatchesUp() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          send(c.leader(), submit("r1", P, 1000, step("gen", "x")));
          c.awaitConverged();
          // Every member's next append as a follower fails (the leader's own never does): should
          // leadership move meanwhile, a member that stayed a follower still fails one.
          for (int i = 0; i < 3; i++) {
            c.stateMachine(i).failingAppends.set(1);
          }

          var uploads = new ArrayList<ChunkUpload>();
          for (int k = 0; k < 3; k++) {
            ChunkUpload u = upload(randomBytes(100_000, 60 + k), 50_000);
            uploads.add(u);
            send(c.leader(), u);
          }
          c.awaitConverged();

          List<Integer> failed = new ArrayList<>();
          for (int i = 0; i < 3; i++) {
            if (c.stateMachine(i).failingAppends.get() == 0) {
              failed.add(i);
            }
          }
          assertFalse(failed.isEmpty(), "no append failed");
          for (int i = 0; i < 3; i++) {
            for (ChunkUpload u : uploads) {
              for (Digest d : u.digests()) {
                assertTrue(c.chunks(i).has(d), "member " + i + " lacks chunk " + d);
              }
            }
            assertEquals(c.dump(c.leaderIndex()), c.dump(i), "record of member " + i);
          }
        });
  }

  @Test
  void aWipedFollowerRebuildsItsRecordAndChunksFromTheLogUnderANewLeader() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int follower = c.followers().get(0);
          RaftNode leader = c.leader();
          byte[] data = randomBytes(120_000, 20);
          ChunkUpload u = upload(data, 40_000);
          send(leader, u);
          send(leader, submit("r1", P, 1000, step("gen", "x")));
          c.awaitConverged();

          c.wipeAndRebuild(follower, Duration.ofSeconds(30));

          assertEquals(c.dump(c.leaderIndex()), c.dump(follower));
          for (Digest d : u.digests()) {
            assertTrue(c.chunks(follower).has(d), "the wiped follower lacks chunk " + d);
          }
        });
  }

  /**
   * A follower that starts empty gets every entry again, their chunk bytes read back from the
   * leader's store (its log's cache holds none): more bytes than one gRPC message may carry, so
   * they must reach it over several.
   */
  @Test
  void aFollowerMissingMoreChunkBytesThanOneMessageHoldsCatchesUp() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          int follower = c.followers().get(0);
          RaftNode leader = c.leader();
          var uploads = new ArrayList<ChunkUpload>();
          for (int i = 0; i < 6; i++) { // 48 MiB in entries of 8 MiB
            ChunkUpload u = upload(randomBytes(8 << 20, 40 + i), 4 << 20);
            send(leader, u);
            uploads.add(u);
          }
          c.awaitConverged();

          c.wipeAndRebuild(follower, Duration.ofSeconds(60));

          for (ChunkUpload u : uploads) {
            for (Digest d : u.digests()) {
              assertTrue(c.chunks(follower).has(d), "the wiped follower lacks chunk " + d);
            }
          }
        });
  }

  /**
   * A replica other than the leader that checked the bytes (a follower: no transaction of its
   * own) verifies them before it stores them: bytes that do not hash to their names stop it.
   */
  @Test
  void aReplicaStoresNoChunkWhoseBytesDoNotHashToItsName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    byte[] data = randomBytes(200_000, 31);
    Digest digest = Digest.of(data);
    byte[] corrupt = data.clone();
    corrupt[1000] ^= 1;
    var fatal = new dev.grit.consensus.testing.RecordingFatalErrorHandler();
    try (ChunkStore store = ChunkStore.open(dir.resolve("objects"))) {
      var sm = new GritStateMachine(dir.resolve("state.db"), store, events -> {}, fatal);
      var entry = putChunkEntry(5, digest, corrupt);

      var written = sm.write(entry, null);

      assertThrows(ExecutionException.class, () -> written.get(10, SECONDS));
      assertFalse(store.has(digest));
      assertEquals(1, fatal.calls().size());
      assertTrue(fatal.calls().get(0).cause().getMessage().contains("does not hash"));
    }
  }

  /**
   * The leader sends an entry to followers as soon as it is logged, and its log keeps no chunk
   * bytes: a read of an entry whose chunks are not stored yet (their write not even started)
   * waits for the write instead of failing, and a read after it finds them in the store.
   */
  @Test
  void aReadOfAnEntryWhoseChunksAreNotStoredYetWaitsForTheirWrite() throws Exception {
    byte[] data = randomBytes(6 << 20, 32); // a large chunk: a file of its own
    Digest digest = Digest.of(data);
    // An index far past the member's log: only this test's write and reads touch it.
    var entry = putChunkEntry(1_000_000, digest, data);
    var withoutData =
        entry.toBuilder()
            .setStateMachineLogEntry(
                entry.getStateMachineLogEntry().toBuilder().clearStateMachineEntry())
            .build();
    MiniCluster.runWithNewCluster(
        1,
        c -> {
          GritStateMachine sm = c.stateMachine(0);

          var early = sm.read(withoutData, null);
          assertFalse(early.isDone(), "the read did not wait for the chunks");
          sm.write(entry, null).get(10, SECONDS);

          assertArrayEquals(data, early.get(10, SECONDS).toByteArray());
          assertArrayEquals(data, sm.read(withoutData, null).get(10, SECONDS).toByteArray());
          assertTrue(c.chunks(0).has(digest));
        });
  }

  /**
   * A request that reaches the leader over the wire is one array: header and chunk bytes. The
   * logged entry's header must not be a view of it, or the log's cache (which keeps entries
   * without their chunk bytes) would keep every chunk alive and a large output fill the heap.
   */
  @Test
  void aLoggedEntryKeepsNoReferenceToItsRequestsChunkBytes(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    byte[] data = randomBytes(1 << 20, 33);
    Digest digest = Digest.of(data);
    byte[] header =
        CommandCodec.encode(new PutChunks(List.of(new PutChunks.Chunk(digest, data.length))));
    byte[] wire = new byte[header.length + data.length];
    System.arraycopy(header, 0, wire, 0, header.length);
    System.arraycopy(data, 0, wire, header.length, data.length);
    var wireRef = new java.lang.ref.WeakReference<>(wire);
    var fatal = new dev.grit.consensus.testing.RecordingFatalErrorHandler();
    try (ChunkStore store = ChunkStore.open(dir.resolve("objects"))) {
      var sm = new GritStateMachine(dir.resolve("state.db"), store, events -> {}, fatal);
      var request =
          org.apache.ratis.protocol.RaftClientRequest.newBuilder()
              .setClientId(org.apache.ratis.protocol.ClientId.randomId())
              .setServerId(org.apache.ratis.protocol.RaftPeerId.valueOf("m0"))
              .setGroupId(org.apache.ratis.protocol.RaftGroupId.randomId())
              .setCallId(1)
              .setMessage(
                  org.apache.ratis.protocol.Message.valueOf(
                      org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations
                          .unsafeWrap(wire)))
              .setType(org.apache.ratis.protocol.RaftClientRequest.writeRequestType())
              .build();
      wire = null;

      var trx = sm.startTransaction(request);
      assertEquals(null, trx.getException());
      // What the log's cache keeps of the entry once its chunk bytes are stored.
      ByteString logged = trx.getStateMachineLogEntry().getLogData();
      request = null;
      trx = null;

      assertArrayEquals(header, logged.toByteArray());
      Wait.until(
          "the request's bytes to be collected",
          java.time.Duration.ofSeconds(10),
          () -> {
            System.gc();
            return wireRef.get() == null;
          });
    }
  }

  /** A logged {@code PutChunks} of one chunk named {@code digest}, carrying {@code bytes}. */
  private static org.apache.ratis.proto.RaftProtos.LogEntryProto putChunkEntry(
      long index, Digest digest, byte[] bytes) throws Exception {
    byte[] header =
        CommandCodec.encode(new PutChunks(List.of(new PutChunks.Chunk(digest, bytes.length))));
    return org.apache.ratis.proto.RaftProtos.LogEntryProto.newBuilder()
        .setTerm(1)
        .setIndex(index)
        .setStateMachineLogEntry(
            org.apache.ratis.proto.RaftProtos.StateMachineLogEntryProto.newBuilder()
                .setLogData(ByteString.copyFrom(header))
                .setStateMachineEntry(
                    org.apache.ratis.proto.RaftProtos.StateMachineEntryProto.newBuilder()
                        .setStateMachineData(ByteString.copyFrom(bytes))))
        .build();
  }

  /**
   * Retention through the log: an old run's object is gone from every member's store (its chunk
   * file too), while a running run and the current resource it consumes keep theirs.
   */
  @Test
  void aCollectedObjectIsGoneOnEveryMemberAndTheLiveRunKeepsWhatItNeeds() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          RaftNode node = c.leader();
          send(node, new dev.grit.engine.command.RaiseRulesVersion(
              dev.grit.engine.command.RulesVersion.RETENTION, 0));
          byte[] old = randomBytes(300_000, 41);
          byte[] current = randomBytes(300_000, 42);
          send(node, upload(old));
          send(node, upload(current));
          send(node, submit("r1", P, 1_000, step("gen", "v1")));
          send(node, assign(1_500, 1, 1, "n1"));
          send(node, results(success(1, 1, "n1", 2_000, output("a", old))));
          send(node, submit("r2", P, 10_000, step("gen", "v2")));
          send(node, assign(10_500, 2, 1, "n1"));
          send(node, results(success(2, 1, "n1", 11_000, output("a", current))));
          send(node, submit("r3", P, 20_000, step("gen", "v2"), step("map", "m", "a")));

          var reply = send(node, new dev.grit.engine.command.Gc(15_000, 30_000));

          assertEquals(1, ((Reply.Collected) reply).chunks(), reply.toString());
          c.awaitConverged();
          for (int i = 0; i < 3; i++) {
            ChunkStore store = c.chunks(i);
            int member = i;
            Wait.until(
                "member " + i + " deleted the collected chunk",
                Duration.ofSeconds(30),
                () -> !store.has(Digest.of(old)));
            assertTrue(store.has(Digest.of(current)), "member " + member + " kept the current one");
            var queries = c.stateMachine(i).queries();
            assertTrue(queries.object(Digest.of(old)).isEmpty());
            assertEquals(RunState.RUNNING, queries.run(3).orElseThrow().state());
            assertEquals(TaskState.PENDING, queries.task(3).orElseThrow().state());
            assertEquals(Digest.of(current), queries.task(3).orElseThrow().inputHash());
          }
          assertEquals(c.dump(0), c.dump(1));
          assertEquals(c.dump(0), c.dump(2));
        });
  }

  /**
   * A follower that was down while a Gc deleted the chunks of an entry it had not received still
   * catches up: the leader sends that entry without the bytes no member has any more, and the
   * follower stores none of them.
   */
  @Test
  void aFollowerThatMissedAGcCatchesUpPastAnEntryWhoseChunksItCollected() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          send(c.leader(), new dev.grit.engine.command.RaiseRulesVersion(
              dev.grit.engine.command.RulesVersion.LOOSE_CHUNKS, 0));
          c.awaitConverged();
          int lagging = c.followers().get(0);
          c.kill(lagging);
          byte[] lost = randomBytes(300_000, 45);
          send(c.leader(), upload(lost));
          send(c.leader(), new dev.grit.engine.command.Gc(0, 30_000));
          var second = send(c.leader(), new dev.grit.engine.command.Gc(0, 40_000));
          assertEquals(1, ((Reply.Collected) second).chunks(), second.toString());
          c.awaitConverged();
          for (int i = 0; i < 3; i++) {
            if (i == lagging) {
              continue;
            }
            ChunkStore store = c.chunks(i);
            Wait.until(
                "member " + i + " deleted the collected chunk",
                Duration.ofSeconds(30),
                () -> !store.has(Digest.of(lost)));
          }
          restartAllBut(c, lagging);

          c.restart(lagging);
          c.awaitConverged();

          assertFalse(c.chunks(lagging).has(Digest.of(lost)));
          assertEquals(c.dump(c.leaderIndex()), c.dump(lagging));
          c.fatal().assertNone();
        });
  }

  /**
   * Bytes an attempt sent and no report ever named: the second Gc after them deletes them from
   * every member's store, and keeps the bytes a report named.
   */
  @Test
  void chunksNoReportNamedAreGoneOnEveryMemberAfterTwoGcs() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          RaftNode node = c.leader();
          send(node, new dev.grit.engine.command.RaiseRulesVersion(
              dev.grit.engine.command.RulesVersion.LOOSE_CHUNKS, 0));
          byte[] lost = randomBytes(300_000, 43);
          byte[] reported = randomBytes(300_000, 44);
          send(node, submit("r1", P, 1_000, step("gen", "v1")));
          send(node, upload(lost));
          send(node, assign(1_500, 1, 1, "n1"));
          send(node, upload(reported));
          send(node, results(success(1, 1, "n1", 2_000, output("a", reported))));

          var first = send(node, new dev.grit.engine.command.Gc(0, 30_000));
          assertEquals(0, ((Reply.Collected) first).chunks(), first.toString());
          var second = send(node, new dev.grit.engine.command.Gc(0, 40_000));
          assertEquals(1, ((Reply.Collected) second).chunks(), second.toString());

          c.awaitConverged();
          for (int i = 0; i < 3; i++) {
            ChunkStore store = c.chunks(i);
            Wait.until(
                "member " + i + " deleted the loose chunk",
                Duration.ofSeconds(30),
                () -> !store.has(Digest.of(lost)));
            assertTrue(store.has(Digest.of(reported)), "member " + i + " kept the reported one");
          }
          assertEquals(c.dump(0), c.dump(1));
          assertEquals(c.dump(0), c.dump(2));
        });
  }
}
