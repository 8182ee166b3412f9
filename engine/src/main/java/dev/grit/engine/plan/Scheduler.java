package dev.grit.engine.plan;

import dev.grit.engine.command.AssignTasks.Assignment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which pending tasks start now and where: a pure function of what is pending, what is
 * assigned and the time. Higher priority first, then older tasks; a step's {@code parallel} and
 * a run's {@code -parallel} are never exceeded; a task in retry back-off waits; each task goes to
 * the node with the most free capacity (ties broken by node name), which spreads work.
 */
public final class Scheduler {
  private static final Comparator<PendingTask> ORDER =
      Comparator.comparingInt(PendingTask::priority)
          .reversed()
          .thenComparingLong(PendingTask::taskId);

  private Scheduler() {}

  public static List<Assignment> decide(List<PendingTask> pending, ClusterLoad load, long now) {
    var free = new HashMap<String, Integer>();
    for (var n : load.nodes()) {
      if (n.free() > 0) {
        free.put(n.node(), n.free());
      }
    }
    var byStep = new HashMap<>(load.assignedByStep());
    var byRun = new HashMap<>(load.assignedByRun());
    var sorted = new ArrayList<>(pending);
    sorted.sort(ORDER);

    var out = new ArrayList<Assignment>();
    for (PendingTask t : sorted) {
      if (free.isEmpty()) {
        break;
      }
      if (t.notBefore() > now
          || count(byStep, t.stepId()) >= t.stepParallel()
          || count(byRun, t.runId()) >= load.runLimits().getOrDefault(t.runId(), Integer.MAX_VALUE)) {
        continue;
      }
      String node = roomiest(free);
      out.add(new Assignment(t.taskId(), t.nextAttempt(), node));
      byStep.merge(t.stepId(), 1, Integer::sum);
      byRun.merge(t.runId(), 1, Integer::sum);
      if (free.merge(node, -1, Integer::sum) == 0) {
        free.remove(node);
      }
    }
    return out;
  }

  private static int count(Map<Long, Integer> counts, long key) {
    return counts.getOrDefault(key, 0);
  }

  private static String roomiest(Map<String, Integer> free) {
    String best = null;
    int most = 0;
    for (var e : free.entrySet()) {
      if (e.getValue() > most || (e.getValue() == most && e.getKey().compareTo(best) < 0)) {
        best = e.getKey();
        most = e.getValue();
      }
    }
    return best;
  }
}
