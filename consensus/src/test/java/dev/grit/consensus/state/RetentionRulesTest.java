package dev.grit.consensus.state;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.bytes;
import static dev.grit.consensus.testing.TestCommands.gather;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.command.Command;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.object.Digest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The apply rules of retention, on a real record. */
class RetentionRulesTest {
  private static final String P = "p";
  private static final byte[] OLD = bytes("bytes of the first version\n");
  private static final byte[] NEW = bytes("bytes of the second version\n");

  @TempDir Path dir;
  private SqlState state;
  private long index;
  private final List<StateEvent> events = new ArrayList<>();

  @BeforeEach
  void open() throws Exception {
    state = SqlState.open(dir.resolve("state.db"));
  }

  @AfterEach
  void close() {
    state.close();
  }

  private Reply apply(Command c) throws Exception {
    ApplyResult r = state.apply(1, ++index, c);
    events.addAll(r.events());
    return r.reply();
  }

  /**
   * Run 1 (gen v1) published a=OLD and ended at 2,000; run 2 (gen v2) published a=NEW and ended at
   * 11,000; run 3 (gen v2 and map, consuming a) is running, its map task pending.
   */
  private void history() throws Exception {
    apply(submit("r1", P, 1_000, step("gen", "v1")));
    apply(assign(1_500, 1, 1, "n1"));
    apply(results(success(1, 1, "n1", 2_000, output("a", OLD))));
    apply(submit("r2", P, 10_000, step("gen", "v2")));
    apply(assign(10_500, 2, 1, "n1"));
    apply(results(success(2, 1, "n1", 11_000, output("a", NEW))));
    apply(submit("r3", P, 20_000, step("gen", "v2"), step("map", "m", "a")));
    assertEquals(RunState.RUNNING, state.queries().run(3).orElseThrow().state());
  }

  /** The dump less the meta row, which moves with every applied entry. */
  private static String withoutMeta(String dump) {
    return dump.replaceAll("(?s)== meta\n.*?(?=== )", "");
  }

  @Test
  void underOlderRulesAGcChangesNothing() throws Exception {
    history();
    String before = withoutMeta(state.dump());
    assertEquals(new Reply.GcNotYet(RulesVersion.INITIAL), apply(new Gc(15_000, 30_000)));
    assertEquals(before, withoutMeta(state.dump()));
  }

  @Test
  void oldRunsLoseTheirHistoryAndWhatNothingCurrentNeedsWhileTheLiveRunIsUntouched()
      throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.RETENTION, 0));
    history();
    var queries = state.queries();
    var liveBefore = queries.task(3).orElseThrow();

    Reply reply = apply(new Gc(15_000, 30_000));

    // Runs 1 and 2, their 2 attempts, gen v1's task, the stale a=OLD, and the objects OLD and the
    // empty log (one chunk: the empty object has none).
    assertEquals(new Reply.Collected(2, 2, 1, 1, 2, 1), reply);
    assertTrue(queries.run(1).isEmpty());
    assertTrue(queries.run(2).isEmpty());
    assertTrue(queries.task(1).isEmpty(), "the task of a retired version");
    assertEquals(
        TaskState.SUCCEEDED, queries.task(2).orElseThrow().state(), "kept: it would rerun");
    assertTrue(queries.attempts(2).isEmpty());
    assertEquals(
        List.of(),
        queries.resourcesNamed("a", P).stream()
            .filter(r -> r.hash().equals(Digest.of(OLD)))
            .toList());
    assertTrue(queries.object(Digest.of(OLD)).isEmpty());
    assertTrue(queries.object(Digest.of(NEW)).isPresent(), "a current resource's object");
    assertEquals(
        List.of(new StateEvent.ChunksCollected(index, List.of(Digest.of(OLD)))),
        events.stream().filter(e -> e instanceof StateEvent.ChunksCollected).toList());

    // The running run is as it was, and goes on.
    assertEquals(RunState.RUNNING, queries.run(3).orElseThrow().state());
    assertEquals(liveBefore, queries.task(3).orElseThrow());
    apply(assign(31_000, 3, 1, "n1"));
    apply(results(success(3, 1, "n1", 32_000, output("b", "mapped"))));
    assertEquals(RunState.SUCCEEDED, queries.run(3).orElseThrow().state());

    // Nothing older is left: the same Gc again removes nothing.
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), apply(new Gc(15_000, 40_000)));
  }

  @Test
  void aGatherTaskItsHistoryAndTheResourcesOfItsSetStay() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.RETENTION, 0));
    // Run 1: gen v1 writes two parts, the gather joins them; run 2: gen v2 writes other parts.
    apply(submit("r1", P, 1_000, step("gen", "v1"), gather("join", "cat", "part_*")));
    apply(assign(1_100, 1, 1, "n1"));
    apply(results(success(1, 1, "n1", 1_200, output("part_a", "a1"), output("part_b", "b1"))));
    long join = gatherTask();
    apply(assign(1_300, join, 1, "n1"));
    apply(results(success(join, 1, "n1", 1_400, output("joined", "a1b1"))));
    assertEquals(RunState.SUCCEEDED, state.queries().run(1).orElseThrow().state());
    apply(submit("r2", P, 10_000, step("gen", "v2"), gather("join", "cat", "part_*")));
    String inputsBefore = state.queries().inputs(join).toString();
    assertEquals(2, state.queries().inputs(join).size());

    Reply reply = apply(new Gc(5_000, 30_000));

    assertEquals(1, ((Reply.Collected) reply).runs(), reply.toString());
    var queries = state.queries();
    assertTrue(queries.task(join).isPresent(), "the gather task");
    assertEquals(1, queries.attempts(join).size(), "and its history");
    assertEquals(inputsBefore, queries.inputs(join).toString(), "and its set's resources");
    for (var input : queries.inputs(join)) {
      assertTrue(queries.object(input.hash()).isPresent(), input.toString());
    }
  }

  /** The one gather task of the record. */
  private long gatherTask() throws Exception {
    return state.queries().pending(1).stream()
        .filter(t -> state.queries().task(t.taskId()).orElseThrow().step().gather())
        .findFirst()
        .orElseThrow()
        .taskId();
  }

  @Test
  void aReportWhoseBytesWereCollectedOnTheirWayRunsAgainUntilTheBytesAreBack() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.RETENTION, 0));
    history();
    apply(assign(21_000, 3, 1, "n1"));
    apply(new Gc(15_000, 30_000));

    // Its worker held OLD and so did not send it; the Gc deleted it meanwhile.
    apply(results(success(3, 1, "n1", 31_000, output("b", OLD))));
    var queries = state.queries();
    assertEquals(TaskState.PENDING, queries.task(3).orElseThrow().state());
    assertEquals(AttemptOutcome.LOST, queries.attempts(3).get(0).outcome());
    assertTrue(queries.object(Digest.of(OLD)).isEmpty());

    // The next attempt sends the bytes, which brings them back.
    apply(new PutChunks(List.of(new PutChunks.Chunk(Digest.of(OLD), OLD.length))));
    apply(assign(32_000, 3, 2, "n1"));
    apply(results(success(3, 2, "n1", 33_000, output("b", OLD))));
    assertEquals(TaskState.SUCCEEDED, queries.task(3).orElseThrow().state());
    assertTrue(queries.object(Digest.of(OLD)).isPresent());
    assertFalse(queries.resourcesNamed("b", P).isEmpty());
  }

  private static final byte[] LOST = bytes("bytes of an attempt that never reported\n");
  private static final byte[] MAPPED = bytes("bytes an attempt reported\n");

  private static PutChunks put(byte[] data) {
    return new PutChunks(List.of(new PutChunks.Chunk(Digest.of(data), data.length)));
  }

  private List<StateEvent> collectedEvents() {
    return events.stream().filter(e -> e instanceof StateEvent.ChunksCollected).toList();
  }

  /** No run ends before 0: a Gc that collects only loose chunks. */
  private Reply gcOfLooseChunksOnly(long at) throws Exception {
    return apply(new Gc(0, at));
  }

  @Test
  void chunksNoObjectNamesAreCollectedByTheSecondGcAfterTheyCame() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.LOOSE_CHUNKS, 0));
    history();
    // One attempt sent its bytes and was never heard of again; the next sent its own and reported.
    apply(put(LOST));
    apply(assign(21_000, 3, 1, "n1"));
    apply(put(MAPPED));
    apply(results(success(3, 1, "n1", 22_000, output("b", MAPPED))));

    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), gcOfLooseChunksOnly(30_000));
    assertEquals(List.of(), collectedEvents(), "a report may still be on its way");

    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 1), gcOfLooseChunksOnly(40_000));
    assertEquals(
        List.of(new StateEvent.ChunksCollected(index, List.of(Digest.of(LOST)))),
        collectedEvents());
    assertTrue(state.queries().object(Digest.of(MAPPED)).isPresent());
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), gcOfLooseChunksOnly(50_000));

    // A report that comes after all names bytes that are gone: its attempt is lost, to run again.
    apply(submit("r4", P, 60_000, step("gen", "v3")));
    apply(assign(61_000, 4, 1, "n1"));
    apply(results(success(4, 1, "n1", 62_000, output("a", LOST))));
    assertEquals(AttemptOutcome.LOST, state.queries().attempts(4).get(0).outcome());
    assertEquals(TaskState.PENDING, state.queries().task(4).orElseThrow().state());
  }

  @Test
  void aLooseChunkSentAgainWaitsForTwoMoreGcs() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.LOOSE_CHUNKS, 0));
    apply(put(LOST));
    gcOfLooseChunksOnly(10_000);
    apply(put(LOST));
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), gcOfLooseChunksOnly(20_000));
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 1), gcOfLooseChunksOnly(30_000));
  }

  @Test
  void aChunkAnObjectAlreadyHasIsNeverCollectedWhateverSentItAgain() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.LOOSE_CHUNKS, 0));
    history();
    // A worker that lacked NEW sent it again for an attempt whose report was then stale.
    apply(put(NEW));
    gcOfLooseChunksOnly(30_000);
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), gcOfLooseChunksOnly(40_000));
    assertEquals(List.of(), collectedEvents());
    assertTrue(state.queries().object(Digest.of(NEW)).isPresent());
  }

  @Test
  void underOlderRulesNoChunkIsLoose() throws Exception {
    apply(new RaiseRulesVersion(RulesVersion.RETRY, 0));
    apply(put(LOST));
    gcOfLooseChunksOnly(10_000);
    assertEquals(new Reply.Collected(0, 0, 0, 0, 0, 0), gcOfLooseChunksOnly(20_000));
    assertFalse(state.dump().contains(Digest.of(LOST).toString()), state.dump());
  }
}
