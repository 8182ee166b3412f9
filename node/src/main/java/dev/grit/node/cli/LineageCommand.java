package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.state.SqlState;
import dev.grit.node.Lineage;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit lineage HASH|NAME}: the tasks and inputs a resource came from (or, with {@code
 * --down}, what came of it), from a server when one is named (and {@code --db} is not), else from
 * the local data directory. The table is a tree; {@code -o json} prints the graph as the API
 * gives it (see {@link Lineage}).
 */
@Command(
    name = "lineage",
    description =
        "Show where a resource came from: the task that produced it, its inputs (every input of a"
            + " gather task) and so on up; or with --down, everything made from it. HASH names"
            + " every resource with those bytes, NAME the newest resource of that name.",
    mixinStandardHelpOptions = true)
final class LineageCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "HASH|NAME")
  String ref;

  static final class Way {
    @Option(names = "--up", description = "Where it came from (the default).")
    boolean up;

    @Option(names = "--down", description = "What was made from it.")
    boolean down;
  }

  @ArgGroup(exclusive = true)
  Way way = new Way();

  @Option(
      names = "--depth",
      paramLabel = "N",
      description = "At most N generations of tasks (default: all).")
  Integer depth;

  @Option(names = "--pipeline", paramLabel = "NAME", description = "Only this pipeline's resources.")
  String pipeline;

  @Mixin DbOption db;
  @Mixin ServerOption server;
  @Mixin OutputOption output;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (depth != null && depth < 1) {
      System.err.println("grit: --depth must be at least 1");
      return Main.USAGE;
    }
    Lineage.Direction direction = way.down ? Lineage.Direction.DOWN : Lineage.Direction.UP;
    JsonNode graph;
    if (server.remote(spec)) {
      String path =
          "/v1/resources/"
              + SubmitCommand.encode(ref)
              + "/lineage?direction="
              + (direction == Lineage.Direction.UP ? "up" : "down")
              + "&depth="
              + (depth == null ? 0 : depth);
      if (pipeline != null) {
        path += "&pipeline=" + SubmitCommand.encode(pipeline);
      }
      graph = server.client().getJson(path);
    } else {
      try (var queries = SqlState.openReadOnly(db.stateFile())) {
        graph = Lineage.of(queries, ref, pipeline, direction, depth == null ? 0 : depth);
      } catch (Lineage.NotFoundException e) {
        System.err.println("grit: " + e.getMessage());
        return Main.FAILED;
      }
    }
    if (output.json()) {
      OutputOption.printJson(graph, System.out);
    } else {
      print(graph, System.out);
    }
    return Main.OK;
  }

  /**
   * The graph as a tree from each root: resources and tasks alternate, one level deeper each; a
   * node shown before is named again with "(above)" instead of repeating what is below it.
   */
  static void print(JsonNode graph, PrintStream out) {
    boolean up = graph.path("direction").asText().equals("up");
    Map<Long, JsonNode> resources = new HashMap<>();
    graph.path("resources").forEach(r -> resources.put(r.path("id").asLong(), r));
    Map<Long, JsonNode> tasks = new HashMap<>();
    graph.path("tasks").forEach(t -> tasks.put(t.path("id").asLong(), t));
    var text = new StringBuilder();
    Set<String> shown = new HashSet<>();
    for (JsonNode root : graph.path("roots")) {
      resource(resources.get(root.asLong()), "", "", true, up, resources, tasks, shown, text);
    }
    out.print(text);
    out.flush();
  }

  private static void resource(
      JsonNode r,
      String lead,
      String indent,
      boolean isRoot,
      boolean up,
      Map<Long, JsonNode> resources,
      Map<Long, JsonNode> tasks,
      Set<String> shown,
      StringBuilder text) {
    String hash = r.path("hash").asText();
    text.append(lead)
        .append(r.path("name").asText())
        .append("  ")
        .append(hash, 0, Math.min(12, hash.length()))
        .append("  ")
        .append(r.path("size").asLong())
        .append(" B");
    if (isRoot) {
      text.append("  (pipeline ").append(r.path("pipeline").asText()).append(')');
    }
    if (!shown.add("r" + r.path("id").asLong())) {
      text.append("  (above)\n");
      return;
    }
    text.append('\n');
    JsonNode edges = r.path(up ? "produced_by" : "consumed_by");
    List<Long> children = longs(edges);
    for (int i = 0; i < children.size(); i++) {
      boolean last = i == children.size() - 1;
      JsonNode t = tasks.get(children.get(i));
      if (t != null) {
        task(t, indent + (last ? "└─ " : "├─ "), indent + (last ? "   " : "│  "), up, resources, tasks, shown, text);
      }
    }
  }

  private static void task(
      JsonNode t,
      String lead,
      String indent,
      boolean up,
      Map<Long, JsonNode> resources,
      Map<Long, JsonNode> tasks,
      Set<String> shown,
      StringBuilder text) {
    List<Long> reached = longs(t.path(up ? "inputs" : "outputs"));
    text.append(lead)
        .append("task ")
        .append(t.path("id").asLong())
        .append("  ")
        .append(t.path("step").asText())
        .append(" v")
        .append(t.path("version").asInt())
        .append("  ")
        .append(t.path("state").asText())
        .append("  run ")
        .append(t.path("run").asLong());
    if (t.path("gather").asBoolean()) {
      text.append(up ? "  gather of " + reached.size() + " inputs" : "  gather");
    } else if (up && reached.isEmpty()) {
      text.append("  (start step)");
    }
    if (!shown.add("t" + t.path("id").asLong())) {
      text.append("  (above)\n");
      return;
    }
    text.append('\n');
    for (int i = 0; i < reached.size(); i++) {
      boolean last = i == reached.size() - 1;
      JsonNode r = resources.get(reached.get(i));
      if (r != null) {
        resource(r, indent + (last ? "└─ " : "├─ "), indent + (last ? "   " : "│  "), false, up, resources, tasks, shown, text);
      }
    }
  }

  private static List<Long> longs(JsonNode array) {
    var out = new java.util.ArrayList<Long>();
    array.forEach(n -> out.add(n.asLong()));
    return out;
  }
}
