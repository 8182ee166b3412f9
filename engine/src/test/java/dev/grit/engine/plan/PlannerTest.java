package dev.grit.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.Planner.ResourceRef;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {
  private static StepVersion step(long id, String name, String... inputs) {
    return new StepVersion(
        id,
        new Step(name, "true", List.of(inputs), Step.UNLIMITED, 0, Duration.ofSeconds(1), Duration.ZERO, Map.of(), 0, 1));
  }

  private static StepVersion gather(long id, String name, String... inputs) {
    return new StepVersion(
        id,
        new Step(name, "true", List.of(inputs), true, Step.UNLIMITED, 0, Duration.ofSeconds(1), Duration.ZERO, Map.of(), 0, 1));
  }

  private static InputSet set(String... namesAndContents) {
    var members = new java.util.ArrayList<InputSet.Member>();
    for (int i = 0; i < namesAndContents.length; i += 2) {
      members.add(
          new InputSet.Member(
              100 + i,
              namesAndContents[i],
              dev.grit.engine.object.Digest.of(namesAndContents[i + 1].getBytes())));
    }
    return new InputSet(members);
  }

  private final StepVersion start = step(1, "start");
  private final StepVersion process = step(2, "process", "dataset-v1");
  private final StepVersion chunks = step(3, "square", "chunk_*");

  @Test
  void submissionSeedsStartStepsAndConsumesLiveResources() {
    var live = List.of(new ResourceRef(10, "dataset-v1"), new ResourceRef(11, "chunk_001"), new ResourceRef(12, "chunk_002"), new ResourceRef(13, "other"));
    var keys = Planner.forSubmission(List.of(start, process, chunks), live);
    assertEquals(
        List.of(new TaskKey(1, Planner.SEED), new TaskKey(2, 10), new TaskKey(3, 11), new TaskKey(3, 12)),
        keys);
  }

  @Test
  void aPublishedResourceFansOutToEveryConsumer() {
    var alsoChunks = step(4, "count", "chunk_00?");
    assertEquals(
        List.of(new TaskKey(3, 20), new TaskKey(4, 20)),
        Planner.forResource(List.of(start, process, chunks, alsoChunks), new ResourceRef(20, "chunk_007")));
    assertEquals(List.of(), Planner.forResource(List.of(start, process), new ResourceRef(21, "nothing")));
  }

  @Test
  void gatherStepsGetNoTaskPerResource() {
    var total = gather(5, "total", "chunk_*");
    var live = List.of(new ResourceRef(11, "chunk_001"), new ResourceRef(12, "chunk_002"));
    assertEquals(
        List.of(new TaskKey(1, Planner.SEED), new TaskKey(3, 11), new TaskKey(3, 12)),
        Planner.forSubmission(List.of(start, chunks, total), live));
    assertEquals(
        List.of(new TaskKey(3, 13)),
        Planner.forResource(List.of(start, chunks, total), new ResourceRef(13, "chunk_003")));
  }

  @Test
  void aSetIsNamedByItsNamesAndBytesWhateverTheirOrderOrIds() {
    InputSet ab = set("a", "1", "b", "2");
    InputSet ba = set("b", "2", "a", "1");
    assertEquals(ab.hash(), ba.hash());
    assertEquals(List.of("a", "b"), ba.members().stream().map(InputSet.Member::name).toList());
    var sameWithOtherIds =
        new InputSet(
            ab.members().stream()
                .map(m -> new InputSet.Member(m.resourceId() + 7, m.name(), m.hash()))
                .toList());
    assertEquals(ab.hash(), sameWithOtherIds.hash());
    org.junit.jupiter.api.Assertions.assertNotEquals(ab.hash(), set("a", "1", "b", "3").hash());
    org.junit.jupiter.api.Assertions.assertNotEquals(ab.hash(), set("a", "1").hash());
    org.junit.jupiter.api.Assertions.assertNotEquals(ab.hash(), set("a", "1", "c", "2").hash());
    // Field boundaries: "ab" and "a" + "b" differ.
    org.junit.jupiter.api.Assertions.assertNotEquals(set("ab", "").hash(), set("a", "", "b", "").hash());
    // Two resources of one name (different bytes) are two members, by hash.
    assertEquals(2, set("counts", "1", "counts", "2").members().size());
  }

  @Test
  void aQuietRunSettlesItsGatherStepsOneAtATimeInManifestOrder() {
    var first = gather(5, "first", "x");
    var second = gather(6, "second", "y");
    var ready = new Planner.GatherCandidate(first, set("x", "1"), Planner.GatherState.SUCCEEDED);
    var changed = new Planner.GatherCandidate(second, set("y", "2"), Planner.GatherState.NEW);
    var empty = new Planner.GatherCandidate(first, set(), Planner.GatherState.NEW);
    assertEquals(java.util.Optional.of(changed), Planner.nextGather(List.of(ready, changed)));
    assertEquals(java.util.Optional.of(changed), Planner.nextGather(List.of(empty, changed)));
    assertEquals(java.util.Optional.empty(), Planner.nextGather(List.of(ready, empty)));
    var retried = new Planner.GatherCandidate(first, set("x", "1"), Planner.GatherState.ENDED_EARLIER);
    assertEquals(java.util.Optional.of(retried), Planner.nextGather(List.of(retried, changed)));
    // After a producer failed: what did not run because of it.
    var failedItself = new Planner.GatherCandidate(second, set("y", "2"), Planner.GatherState.FAILED_HERE);
    assertEquals(List.of("first"), Planner.blockedGathers(List.of(empty, ready, failedItself)));
  }

  @Test
  void filtersChooseSteps() {
    var all = List.of(start, process, chunks);
    assertEquals(all, Planner.enabled(all, List.of()));
    assertEquals(List.of(process), Planner.enabled(all, List.of("process")));
    assertEquals(all, Planner.plannedAtSubmission(all, null));
    assertEquals(List.of(chunks), Planner.plannedAtSubmission(all, "square"));
  }
}
