package dev.grit.node;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.plan.SubmissionPreview;
import dev.grit.engine.plan.SubmissionPreview.KnownVersion;
import dev.grit.engine.plan.SubmissionPreview.StepPlan;
import java.util.List;
import java.util.Locale;

/**
 * What submitting a manifest would do, from a read of the record ({@link SubmissionPreview}):
 * {@code grit plan} and {@code POST /v1/plan} share it. Proposes nothing.
 *
 * <p>The JSON form: {@code {"pipeline", "steps": [{"step", "change":
 * "new_step|new_version|revert|unchanged", "version", "changed": [fields], "tasks_created",
 * "tasks_retried", "why"}], "tasks_created", "tasks_retried"}}, steps in manifest order.
 */
public final class SubmissionPlan {
  private SubmissionPlan() {}

  /** The plan against the record {@code q} reads. */
  public static ObjectNode of(
      StateQueries q, Manifest manifest, String pipeline, String start, List<String> onlySteps) {
    return json(pipeline, steps(q, q.stepVersions(pipeline), manifest, pipeline, start, onlySteps));
  }

  /**
   * The plan against the record {@code q} reads, step by step, given the pipeline's step versions
   * ({@code q.stepVersions(pipeline)}) read already.
   */
  static List<StepPlan> steps(
      StateQueries q,
      List<KnownVersion> versions,
      Manifest manifest,
      String pipeline,
      String start,
      List<String> onlySteps) {
    return SubmissionPreview.of(
        manifest.steps(),
        start,
        onlySteps,
        versions,
        q.resourcesWithProducers(pipeline),
        q.taskStandings(pipeline)::get);
  }

  /** The plan against a record that does not exist yet: every step is new. */
  public static ObjectNode ofNewRecord(
      Manifest manifest, String pipeline, String start, List<String> onlySteps) {
    return json(
        pipeline,
        SubmissionPreview.of(manifest.steps(), start, onlySteps, List.of(), List.of(), k -> null));
  }

  private static ObjectNode json(String pipeline, List<StepPlan> plan) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("pipeline", pipeline);
    var steps = out.putArray("steps");
    int created = 0;
    int retried = 0;
    for (StepPlan p : plan) {
      ObjectNode s = steps.addObject();
      s.put("step", p.step());
      s.put("change", p.change().name().toLowerCase(Locale.ROOT));
      s.put("version", p.version());
      p.changed().forEach(s.putArray("changed")::add);
      s.put("tasks_created", p.created());
      s.put("tasks_retried", p.retried());
      s.put("why", p.why());
      created += p.created();
      retried += p.retried();
    }
    out.put("tasks_created", created);
    out.put("tasks_retried", retried);
    return out;
  }
}
