package dev.grit.engine.plan;

import java.util.List;
import java.util.Map;

/**
 * What is assigned right now, as the scheduler sees it.
 *
 * @param nodes the nodes that may take work, with how many more attempts each may be given
 * @param assignedByStep attempts assigned and not yet reported, by step id
 * @param assignedByRun the same, by run id
 * @param runLimits {@code -parallel} of the runs that have one, by run id
 */
public record ClusterLoad(
    List<NodeCapacity> nodes,
    Map<Long, Integer> assignedByStep,
    Map<Long, Integer> assignedByRun,
    Map<Long, Integer> runLimits) {

  public ClusterLoad {
    nodes = List.copyOf(nodes);
    assignedByStep = Map.copyOf(assignedByStep);
    assignedByRun = Map.copyOf(assignedByRun);
    runLimits = Map.copyOf(runLimits);
  }

  public record NodeCapacity(String node, int free) {}

  public int totalFree() {
    int n = 0;
    for (NodeCapacity c : nodes) {
      n += Math.max(0, c.free());
    }
    return n;
  }
}
