package dev.grit.engine.plan;

import dev.grit.engine.manifest.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * Which tasks must exist: one per start step version (its seed task), one per (step version, live
 * resource whose name it consumes), and one per (gather step version, set of the live resources
 * it consumes), once the run is quiet. Pure; the record creates the tasks that do not exist yet,
 * so planning the same thing twice creates nothing.
 */
public final class Planner {
  /** The input resource id of a start step's seed task. */
  public static final long SEED = 0;

  private Planner() {}

  /** A step version of the pipeline, with its record id. */
  public record StepVersion(long stepId, Step step) {}

  /** A resource, with its record id. */
  public record ResourceRef(long resourceId, String name) {}

  /**
   * A task that must exist: one per (step version, input resource), or for a gather step one per
   * (step version, input set).
   *
   * @param inputResourceId the consumed resource; {@link #SEED} for a start step or a gather step
   * @param inputSetId the consumed set of a gather task; 0 for any other task
   */
  public record TaskKey(long stepId, long inputResourceId, long inputSetId) {
    public TaskKey(long stepId, long inputResourceId) {
      this(stepId, inputResourceId, 0);
    }
  }

  /**
   * At submission: the seed task of every start step, and a task for every live resource each
   * other step consumes. Gather steps are planned later, by {@link #nextGather}.
   */
  public static List<TaskKey> forSubmission(List<StepVersion> planned, List<ResourceRef> live) {
    var keys = new ArrayList<TaskKey>();
    for (StepVersion v : planned) {
      if (v.step().gather()) {
        continue;
      } else if (v.step().isStart()) {
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

  /**
   * When a resource is published: a task for every step that consumes its name, gather steps
   * excepted (they wait for the whole set).
   */
  public static List<TaskKey> forResource(List<StepVersion> enabled, ResourceRef published) {
    var keys = new ArrayList<TaskKey>();
    for (StepVersion v : enabled) {
      if (!v.step().isStart() && !v.step().gather() && v.step().consumes(published.name())) {
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

  /** How a gather step's current input set stands, as the record has it. */
  public enum GatherState {
    /** No task over this set exists yet. */
    NEW,
    /** The task over this set succeeded: its outputs are what the set gives. */
    SUCCEEDED,
    /** The task over this set failed or was cancelled in an earlier run: a new run retries it. */
    ENDED_EARLIER,
    /** The task over this set failed in this run. */
    FAILED_HERE
  }

  /** A gather step of a quiet run with the set it would consume now and how that set stands. */
  public record GatherCandidate(StepVersion step, InputSet set, GatherState state) {}

  /**
   * What a quiet run does next about its gather steps: the first (in manifest order) whose current
   * set is not empty and has no succeeded task is to run over that set; empty when every gather
   * step is settled. One at a time, because the task of one gather step may publish what a later
   * one gathers. A manifest that lists a gather step before the one it gathers from still ends
   * right: the first finds its set empty or already gathered until the other ran, and at worst (a
   * new version of it) runs once more over the other's earlier output first.
   */
  public static java.util.Optional<GatherCandidate> nextGather(List<GatherCandidate> inOrder) {
    for (GatherCandidate c : inOrder) {
      if (!c.set().isEmpty() && c.state() != GatherState.SUCCEEDED) {
        return java.util.Optional.of(c);
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * The gather steps a producer's failure keeps from running: those whose current set (empty ones
   * included, as their producers may be what failed) has no succeeded task and did not fail itself.
   */
  public static List<String> blockedGathers(List<GatherCandidate> inOrder) {
    var out = new ArrayList<String>();
    for (GatherCandidate c : inOrder) {
      if (c.state() == GatherState.NEW || c.state() == GatherState.ENDED_EARLIER) {
        out.add(c.step().step().name());
      }
    }
    return out;
  }

  public static List<StepVersion> plannedAtSubmission(List<StepVersion> enabled, String startStep) {
    if (startStep == null) {
      return enabled;
    }
    return enabled.stream().filter(v -> v.step().name().equals(startStep)).toList();
  }
}
