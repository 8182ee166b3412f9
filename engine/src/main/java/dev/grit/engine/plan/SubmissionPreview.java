package dev.grit.engine.plan;

import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.Planner.ResourceRef;
import dev.grit.engine.plan.Planner.StepVersion;
import dev.grit.engine.plan.Planner.TaskKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * What a submission would do, worked out the way the record's submission rule does (see {@link
 * Planner}) over a read of the record, proposing nothing: which step versions it registers and
 * why (the fields that differ from the current version), which tasks it creates or retries at once
 * per step, and why a step gets none (its inputs are unchanged, it waits for upstream outputs, it
 * gathers later, or a filter leaves it out). Tasks planned later, as resources are published,
 * depend on what scripts write and are not predicted; the steps that may get them are named.
 */
public final class SubmissionPreview {
  /** A step version the record has, current or not. */
  public record KnownVersion(long stepId, int version, boolean current, Step step) {}

  /** A resource of the pipeline, with the step versions that published it. */
  public record KnownResource(long resourceId, String name, Set<Long> producerStepIds) {}

  /** How a task of the record stands, as far as a submission cares. */
  public enum TaskStanding {
    /** Pending, running or succeeded: a submission leaves it be. */
    KEPT,
    /** Failed or cancelled: a submission tries it again. */
    RETRIED
  }

  /** What the submission does to one step of the manifest. */
  public enum Change {
    /** A step name the pipeline never had. */
    NEW_STEP,
    /** A version the step never had. */
    NEW_VERSION,
    /** A version the step had before, but not its current one: it becomes current again. */
    REVERT,
    /** The step's current version. */
    UNCHANGED
  }

  /**
   * One step's plan.
   *
   * @param version the version number it would have (a new one is numbered after the last)
   * @param changed for a new version or a revert, the fields that differ from the current version
   * @param created tasks created at submission
   * @param retried failed or cancelled tasks tried again
   * @param why why the step gets these tasks, or none
   */
  public record StepPlan(
      String step,
      Change change,
      int version,
      List<String> changed,
      int created,
      int retried,
      String why) {}

  private SubmissionPreview() {}

  /**
   * The plan of submitting {@code steps} to a pipeline whose record has {@code versions}, {@code
   * resources} and the tasks {@code tasks} answers for (null: no such task).
   */
  public static List<StepPlan> of(
      List<Step> steps,
      String startStep,
      List<String> onlySteps,
      List<KnownVersion> versions,
      List<KnownResource> resources,
      Function<TaskKey, TaskStanding> tasks) {
    // The step versions that would be current: known ones found by their version hash, new ones
    // given ids below zero (no record id is).
    Map<String, KnownVersion> current = new HashMap<>();
    Map<String, Integer> lastVersion = new HashMap<>();
    for (KnownVersion v : versions) {
      if (v.current()) {
        current.put(v.step().name(), v);
      }
      lastVersion.merge(v.step().name(), v.version(), Math::max);
    }
    var next = new ArrayList<StepVersion>();
    var changes = new HashMap<String, Change>();
    var numbers = new HashMap<String, Integer>();
    long newId = -1;
    for (Step s : steps) {
      KnownVersion known = find(versions, s);
      if (known != null) {
        next.add(new StepVersion(known.stepId(), s));
        changes.put(s.name(), known.current() ? Change.UNCHANGED : Change.REVERT);
        numbers.put(s.name(), known.version());
      } else {
        next.add(new StepVersion(newId--, s));
        boolean had = lastVersion.containsKey(s.name());
        changes.put(s.name(), had ? Change.NEW_VERSION : Change.NEW_STEP);
        numbers.put(s.name(), lastVersion.getOrDefault(s.name(), 0) + 1);
      }
    }
    // Live resources: those a step version that would be current published.
    Set<Long> nextIds = new HashSet<>();
    next.forEach(v -> nextIds.add(v.stepId()));
    var live = new ArrayList<ResourceRef>();
    for (KnownResource r : resources) {
      if (r.producerStepIds().stream().anyMatch(nextIds::contains)) {
        live.add(new ResourceRef(r.resourceId(), r.name()));
      }
    }
    List<StepVersion> enabled = Planner.enabled(next, onlySteps);
    List<StepVersion> planned = Planner.plannedAtSubmission(enabled, startStep);
    Map<Long, int[]> counts = new HashMap<>(); // step id -> {created, retried, kept}
    for (TaskKey key : Planner.forSubmission(planned, live)) {
      int[] c = counts.computeIfAbsent(key.stepId(), k -> new int[3]);
      TaskStanding standing = key.stepId() < 0 ? null : tasks.apply(key);
      c[standing == null ? 0 : standing == TaskStanding.RETRIED ? 1 : 2]++;
    }
    Map<String, Set<String>> upstream = upstream(steps, versions, resources);
    Set<String> runsNow = new HashSet<>();
    for (StepVersion v : next) {
      int[] c = counts.getOrDefault(v.stepId(), new int[3]);
      if (c[0] + c[1] > 0) {
        runsNow.add(v.step().name());
      }
    }
    Set<String> mayRun = mayRunLater(steps, upstream, runsNow);
    var out = new ArrayList<StepPlan>();
    for (StepVersion v : next) {
      Step s = v.step();
      int[] c = counts.getOrDefault(v.stepId(), new int[3]);
      Change change = changes.get(s.name());
      KnownVersion was = current.get(s.name());
      List<String> changed =
          change == Change.NEW_VERSION || change == Change.REVERT
              ? was == null ? List.of() : changedFields(was.step(), s)
              : List.of();
      String why =
          why(s, change, c, enabled.contains(v), planned.contains(v), startStep, upstream, runsNow,
              mayRun);
      out.add(new StepPlan(s.name(), change, numbers.get(s.name()), changed, c[0], c[1], why));
    }
    return out;
  }

  private static KnownVersion find(List<KnownVersion> versions, Step s) {
    for (KnownVersion v : versions) {
      if (v.step().name().equals(s.name()) && v.step().versionHash().equals(s.versionHash())) {
        return v;
      }
    }
    return null;
  }

  /** The fields of a step's identity (its version hash) that differ between two versions. */
  static List<String> changedFields(Step was, Step now) {
    var out = new ArrayList<String>();
    if (!Objects.equals(was.script(), now.script())) {
      out.add("script");
    }
    if (!was.inputs().equals(now.inputs())) {
      out.add("inputs");
    }
    if (!was.env().equals(now.env())) {
      out.add("env");
    }
    if (was.gather() != now.gather()) {
      out.add("gather");
    }
    return out;
  }

  /**
   * For each step, the steps whose published resources (in the record, by any version) it
   * consumes: what the record knows of the graph, since outputs are named only when written.
   */
  private static Map<String, Set<String>> upstream(
      List<Step> steps, List<KnownVersion> versions, List<KnownResource> resources) {
    Map<Long, String> stepNames = new HashMap<>();
    versions.forEach(v -> stepNames.put(v.stepId(), v.step().name()));
    var out = new HashMap<String, Set<String>>();
    for (Step s : steps) {
      var ups = new LinkedHashSet<String>();
      for (KnownResource r : resources) {
        if (!s.isStart() && s.consumes(r.name())) {
          for (long id : r.producerStepIds()) {
            String name = stepNames.get(id);
            if (name != null && !name.equals(s.name())) {
              ups.add(name);
            }
          }
        }
      }
      out.put(s.name(), ups);
    }
    return out;
  }

  /** Steps downstream (transitively) of a step that runs now: they may get tasks later. */
  private static Set<String> mayRunLater(
      List<Step> steps, Map<String, Set<String>> upstream, Set<String> runsNow) {
    Set<String> reached = new HashSet<>(runsNow);
    boolean grew = true;
    while (grew) {
      grew = false;
      for (Step s : steps) {
        if (!reached.contains(s.name())
            && upstream.get(s.name()).stream().anyMatch(reached::contains)) {
          reached.add(s.name());
          grew = true;
        }
      }
    }
    reached.removeAll(runsNow);
    return reached;
  }

  private static String why(
      Step s,
      Change change,
      int[] c,
      boolean enabled,
      boolean planned,
      String startStep,
      Map<String, Set<String>> upstream,
      Set<String> runsNow,
      Set<String> mayRun) {
    if (!enabled) {
      return "left out by --step";
    }
    if (s.gather()) {
      return "gather step: one task over its current set once the run is quiet";
    }
    if (!planned) {
      return mayRun.contains(s.name()) || !upstream.get(s.name()).isEmpty()
          ? "after --start " + startStep + ": tasks as upstream steps publish"
          : "after --start " + startStep + ": tasks as its inputs are published";
    }
    var parts = new ArrayList<String>();
    if (c[0] > 0) {
      parts.add(
          s.isStart()
              ? change == Change.UNCHANGED ? "seed task (none yet)" : "seed task of the new version"
              : c[0] + (c[0] == 1 ? " input" : " inputs") + " with no task of this version");
    }
    if (c[1] > 0) {
      parts.add(c[1] + (c[1] == 1 ? " failed or cancelled task" : " failed or cancelled tasks"));
    }
    Set<String> ups = new LinkedHashSet<>(upstream.get(s.name()));
    ups.removeIf(u -> !runsNow.contains(u) && !mayRun.contains(u));
    if (!ups.isEmpty()) {
      parts.add("more as " + String.join(", ", ups) + " publish");
    }
    if (!parts.isEmpty()) {
      return String.join("; ", parts);
    }
    if (c[2] > 0 && s.isStart()) {
      return "cut off: version unchanged, its seed task exists";
    }
    if (c[2] > 0) {
      return "cut off: inputs unchanged ("
          + c[2]
          + (c[2] == 1 ? " task exists)" : " tasks exist)");
    }
    return s.isStart()
        ? "cut off: nothing to do"
        : "no current inputs: tasks as upstream steps publish";
  }
}
