package dev.grit.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.Planner.TaskKey;
import dev.grit.engine.plan.SubmissionPreview.Change;
import dev.grit.engine.plan.SubmissionPreview.KnownResource;
import dev.grit.engine.plan.SubmissionPreview.KnownVersion;
import dev.grit.engine.plan.SubmissionPreview.StepPlan;
import dev.grit.engine.plan.SubmissionPreview.TaskStanding;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What a submission would do, against a record where {@code gen} (step 1) made {@code data_1}
 * and {@code data_2} (resources 10, 11), {@code up} (step 2) turned each into {@code up_*}
 * (resources 12, 13) and {@code report} (step 3) read those.
 */
class SubmissionPreviewTest {
  static Step step(String name, String script, String... inputs) {
    return new Step(
        name, script, List.of(inputs), Step.UNLIMITED, 0, Duration.ofSeconds(1), Duration.ZERO,
        Map.of(), 0, 1);
  }

  static final Step GEN = step("gen", "gen");
  static final Step UP = step("up", "tr", "data_*");
  static final Step REPORT = step("report", "wc", "up_*");

  final List<KnownVersion> versions =
      List.of(new KnownVersion(1, 1, true, GEN), new KnownVersion(2, 1, true, UP),
          new KnownVersion(3, 1, true, REPORT));
  final List<KnownResource> resources =
      List.of(
          new KnownResource(10, "data_1", Set.of(1L)),
          new KnownResource(11, "data_2", Set.of(1L)),
          new KnownResource(12, "up_data_1", Set.of(2L)),
          new KnownResource(13, "up_data_2", Set.of(2L)));
  final Map<TaskKey, TaskStanding> tasks = new HashMap<>();

  {
    tasks.put(new TaskKey(1, 0), TaskStanding.KEPT);
    tasks.put(new TaskKey(2, 10), TaskStanding.KEPT);
    tasks.put(new TaskKey(2, 11), TaskStanding.KEPT);
    tasks.put(new TaskKey(3, 12), TaskStanding.KEPT);
    tasks.put(new TaskKey(3, 13), TaskStanding.RETRIED);
  }

  List<StepPlan> plan(Step... steps) {
    return SubmissionPreview.of(List.of(steps), null, List.of(), versions, resources, tasks::get);
  }

  @Test
  void theSameManifestCutsEverythingOffButAFailedTask() {
    List<StepPlan> p = plan(GEN, UP, REPORT);
    assertEquals(
        new StepPlan("gen", Change.UNCHANGED, 1, List.of(), 0, 0,
            "cut off: version unchanged, its seed task exists"),
        p.get(0));
    assertEquals(
        new StepPlan("up", Change.UNCHANGED, 1, List.of(), 0, 0,
            "cut off: inputs unchanged (2 tasks exist)"),
        p.get(1));
    assertEquals(
        new StepPlan("report", Change.UNCHANGED, 1, List.of(), 0, 1, "1 failed or cancelled task"),
        p.get(2));
  }

  @Test
  void anEditedStepIsANewVersionNamingTheFieldAndItsConsumersWaitForIt() {
    Step edited = step("up", "tr | rev", "data_*");
    List<StepPlan> p = plan(GEN, edited, REPORT);
    assertEquals(
        new StepPlan("up", Change.NEW_VERSION, 2, List.of("script"), 2, 0,
            "2 inputs with no task of this version"),
        p.get(1));
    // The old version's outputs are no longer live: report waits for the new ones.
    assertEquals(
        new StepPlan("report", Change.UNCHANGED, 1, List.of(), 0, 0, "more as up publish"),
        p.get(2));

    // Back to the first version: a revert, whose tasks all exist.
    List<StepPlan> back =
        SubmissionPreview.of(
            List.of(GEN, UP, REPORT),
            null,
            List.of(),
            List.of(
                new KnownVersion(1, 1, true, GEN),
                new KnownVersion(2, 1, false, UP),
                new KnownVersion(4, 2, true, edited),
                new KnownVersion(3, 1, true, REPORT)),
            resources,
            tasks::get);
    assertEquals(Change.REVERT, back.get(1).change());
    assertEquals(List.of("script"), back.get(1).changed());
    assertEquals(0, back.get(1).created());
  }

  @Test
  void newStepsAndFilters() {
    Step extra = step("extra", "x", "data_*");
    List<StepPlan> p =
        SubmissionPreview.of(
            List.of(GEN, UP, REPORT, extra), null, List.of("gen", "extra"), versions, resources,
            tasks::get);
    assertEquals("left out by --step", p.get(1).why());
    assertEquals(new StepPlan("extra", Change.NEW_STEP, 1, List.of(), 2, 0,
        "2 inputs with no task of this version"), p.get(3));
    List<StepPlan> fresh =
        SubmissionPreview.of(List.of(GEN, UP), null, List.of(), List.of(), List.of(), k -> null);
    assertEquals(1, fresh.get(0).created());
    assertEquals("no current inputs: tasks as upstream steps publish", fresh.get(1).why());
  }
}
