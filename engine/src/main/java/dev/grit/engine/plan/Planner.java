package dev.grit.engine.plan;

import dev.grit.engine.manifest.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Which tasks must exist: one per start step version (its seed task), and one per (step version,
 * live resource whose name it consumes). Pure; the record creates the tasks that do not exist
 * yet, so planning the same thing twice creates nothing.
 */
public final class Planner {
  /** The input resource id of a start step's seed task. */
  public static final long SEED = 0;

  private Planner() {}

  /** A step version of the pipeline, with its record id. */
  public record StepVersion(long stepId, Step step) {}

  /** A resource, with its record id. */
  public record ResourceRef(long resourceId, String name) {}

  /** A task that must exist: one per (step version, input resource). */
  public record TaskKey(long stepId, long inputResourceId) {}

  /**
   * At submission: the seed task of every start step, and a task for every live resource each
   * other step consumes.
   */
  public static List<TaskKey> forSubmission(List<StepVersion> planned, List<ResourceRef> live) {
    var keys = new ArrayList<TaskKey>();
    for (StepVersion v : planned) {
      if (v.step().isStart()) {
        keys.add(new TaskKey(v.stepId(), SEED));
      } else {
        for (ResourceRef r : live) {
          if (v.step().consumes(r.name())) {
            keys.add(new TaskKey(v.stepId(), r.resourceId()));
          }
        }
      }
    }
    return keys;
  }

  /** When a resource is published: a task for every step that consumes its name. */
  public static List<TaskKey> forResource(List<StepVersion> enabled, ResourceRef published) {
    var keys = new ArrayList<TaskKey>();
    for (StepVersion v : enabled) {
      if (!v.step().isStart() && v.step().consumes(published.name())) {
        keys.add(new TaskKey(v.stepId(), published.resourceId()));
      }
    }
    return keys;
  }

  /**
   * The steps a run may create tasks for: those named by {@code -step}, or all. With {@code
   * -start}, only that step is planned at submission (see {@link #plannedAtSubmission}); the
   * steps downstream of it are reached through the resources it publishes.
   */
  public static List<StepVersion> enabled(List<StepVersion> current, List<String> onlySteps) {
    if (onlySteps.isEmpty()) {
      return current;
    }
    return current.stream().filter(v -> onlySteps.contains(v.step().name())).toList();
  }

  public static List<StepVersion> plannedAtSubmission(List<StepVersion> enabled, String startStep) {
    if (startStep == null) {
      return enabled;
    }
    return enabled.stream().filter(v -> v.step().name().equals(startStep)).toList();
  }
}
