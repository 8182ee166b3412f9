package dev.grit.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.consensus.state.StateQueries;
import dev.grit.consensus.state.StateQueries.Input;
import dev.grit.consensus.state.StateQueries.ResourceRow;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.engine.object.Digest;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a resource came from, or what came of it: the graph of {@code grit lineage} and of {@code
 * GET /v1/resources/{ref}/lineage}, shared by the local command and the HTTP API.
 *
 * <p>Upward, from each root resource: the tasks that published it, each with every input it
 * consumed (all of a gather task's set), then the tasks that published those, and so on. Downward:
 * the tasks that consumed it (as their input, or in their set), each with every output it
 * published, and so on. {@code depth} counts task generations; 0 means no limit. A resource or
 * task reached twice is listed once.
 *
 * <p>The JSON form: {@code {"direction", "depth", "roots": [resource ids], "resources": [{"id",
 * "pipeline", "name", "hash", "size", "created_at", "produced_by"|"consumed_by": [task ids]}],
 * "tasks": [{"id", "run", "step", "version", "state", "gather", "inputs"|"outputs": [resource
 * ids]}]}}, resources and tasks in the order they were reached; edges name only what is listed.
 */
public final class Lineage {
  /** Which way the graph goes from its roots. */
  public enum Direction {
    UP,
    DOWN
  }

  /** A reference no resource matches. */
  public static final class NotFoundException extends Exception {
    NotFoundException(String message) {
      super(message);
    }
  }

  private final StateQueries q;
  private final Direction direction;
  private final int depth;
  private final Map<Long, ObjectNode> resources = new LinkedHashMap<>();
  private final Map<Long, ObjectNode> tasks = new LinkedHashMap<>();

  private Lineage(StateQueries q, Direction direction, int depth) {
    this.q = q;
    this.direction = direction;
    this.depth = depth;
  }

  /**
   * The lineage of {@code ref}: a sha256 names every resource with those bytes; anything else is a
   * resource name, of which the newest resource is taken. {@code pipeline}, when not null, limits
   * the roots to one pipeline.
   *
   * @throws NotFoundException when no resource matches
   */
  public static JsonNode of(
      StateQueries q, String ref, String pipeline, Direction direction, int depth)
      throws NotFoundException {
    List<ResourceRow> roots = roots(q, ref, pipeline);
    if (roots.isEmpty()) {
      throw new NotFoundException(
          "no resource "
              + (isHash(ref) ? "with hash " : "named ")
              + ref
              + (pipeline == null ? "" : " in pipeline " + pipeline));
    }
    var lineage = new Lineage(q, direction, depth);
    return lineage.walk(roots);
  }

  private static boolean isHash(String ref) {
    try {
      Digest.valueOf(ref);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static List<ResourceRow> roots(StateQueries q, String ref, String pipeline) {
    if (isHash(ref)) {
      List<ResourceRow> byHash = q.resourcesWithHash(Digest.valueOf(ref), pipeline);
      if (!byHash.isEmpty()) {
        return byHash;
      }
    }
    return q.resourcesNamed(ref, pipeline).stream().limit(1).toList();
  }

  private record Step(long resourceId, int generation) {}

  private JsonNode walk(List<ResourceRow> roots) {
    Deque<Step> queue = new ArrayDeque<>();
    var rootIds = JsonNodeFactory.instance.arrayNode();
    for (ResourceRow r : roots) {
      rootIds.add(r.id());
      add(r);
      queue.add(new Step(r.id(), 0));
    }
    while (!queue.isEmpty()) {
      Step next = queue.poll();
      if (depth > 0 && next.generation() >= depth) {
        continue;
      }
      List<Long> edges =
          direction == Direction.UP ? q.producers(next.resourceId()) : q.consumers(next.resourceId());
      resources
          .get(next.resourceId())
          .putArray(direction == Direction.UP ? "produced_by" : "consumed_by")
          .addAll(ids(edges));
      for (long taskId : edges) {
        if (tasks.containsKey(taskId)) {
          continue;
        }
        Optional<TaskSpec> task = q.task(taskId);
        if (task.isEmpty()) {
          continue;
        }
        List<Long> reached =
            direction == Direction.UP
                ? q.inputs(taskId).stream().map(Input::resourceId).toList()
                : q.outputs(taskId);
        tasks.put(taskId, task(task.get(), reached));
        for (long resourceId : reached) {
          if (!resources.containsKey(resourceId)) {
            q.resource(resourceId).ifPresent(this::add);
            queue.add(new Step(resourceId, next.generation() + 1));
          }
        }
      }
    }
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    out.put("direction", direction.name().toLowerCase(java.util.Locale.ROOT));
    out.put("depth", depth);
    out.set("roots", rootIds);
    out.putArray("resources").addAll(resources.values());
    out.putArray("tasks").addAll(tasks.values());
    return out;
  }

  private void add(ResourceRow r) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("id", r.id());
    n.put("pipeline", r.pipeline());
    n.put("name", r.name());
    n.put("hash", r.hash().toString());
    n.put("size", r.size());
    n.put("created_at", Instant.ofEpochMilli(r.createdAt()).toString());
    resources.put(r.id(), n);
  }

  private ObjectNode task(TaskSpec t, List<Long> reached) {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("id", t.taskId());
    n.put("run", t.runId());
    n.put("step", t.step().name());
    n.put("version", t.stepVersion());
    n.put("state", t.state().name());
    n.put("gather", t.step().gather());
    n.putArray(direction == Direction.UP ? "inputs" : "outputs").addAll(ids(reached));
    return n;
  }

  private static ArrayNode ids(List<Long> ids) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    ids.forEach(a::add);
    return a;
  }
}
