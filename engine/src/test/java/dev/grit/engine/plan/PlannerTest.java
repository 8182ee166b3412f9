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
  void filtersChooseSteps() {
    var all = List.of(start, process, chunks);
    assertEquals(all, Planner.enabled(all, List.of()));
    assertEquals(List.of(process), Planner.enabled(all, List.of("process")));
    assertEquals(all, Planner.plannedAtSubmission(all, null));
    assertEquals(List.of(chunks), Planner.plannedAtSubmission(all, "square"));
  }
}
