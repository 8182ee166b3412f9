package dev.grit.engine.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.command.AssignTasks.Assignment;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.plan.ClusterLoad.NodeCapacity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulerTest {
  private static final long NOW = 1_000_000;

  private static PendingTask task(long id, long step, int parallel, int priority) {
    return new PendingTask(id, 1, step, 1, parallel, priority, 0);
  }

  private static ClusterLoad nodes(int... free) {
    var list = new ArrayList<NodeCapacity>();
    for (int i = 0; i < free.length; i++) {
      list.add(new NodeCapacity("n" + (i + 1), free[i]));
    }
    return new ClusterLoad(list, Map.of(), Map.of(), Map.of());
  }

  private static List<Long> ids(List<Assignment> as) {
    return as.stream().map(Assignment::taskId).toList();
  }

  @Test
  void fillsFreeSlotsOldestFirst() {
    var pending = List.of(task(3, 1, Step.UNLIMITED, 0), task(1, 1, Step.UNLIMITED, 0), task(2, 1, Step.UNLIMITED, 0));
    var decided = Scheduler.decide(pending, nodes(2), NOW);
    assertEquals(List.of(1L, 2L), ids(decided));
    assertTrue(decided.stream().allMatch(a -> a.node().equals("n1") && a.attempt() == 1));
  }

  @Test
  void higherPriorityFirst() {
    var pending = List.of(task(1, 1, Step.UNLIMITED, 0), task(2, 2, Step.UNLIMITED, 5));
    assertEquals(List.of(2L), ids(Scheduler.decide(pending, nodes(1), NOW)));
  }

  @Test
  void stepParallelCountsWhatIsAlreadyAssigned() {
    var pending = List.of(task(1, 7, 2, 0), task(2, 7, 2, 0), task(3, 8, Step.UNLIMITED, 0));
    var load = new ClusterLoad(List.of(new NodeCapacity("n1", 10)), Map.of(7L, 1), Map.of(), Map.of());
    assertEquals(List.of(1L, 3L), ids(Scheduler.decide(pending, load, NOW)));
  }

  @Test
  void runLimitIsHonoured() {
    var pending = new ArrayList<PendingTask>();
    for (long id = 1; id <= 10; id++) {
      pending.add(new PendingTask(id, 1, 1, 42, Step.UNLIMITED, 0, 0));
    }
    var load = new ClusterLoad(List.of(new NodeCapacity("n1", 10)), Map.of(), Map.of(42L, 1), Map.of(42L, 3));
    assertEquals(2, Scheduler.decide(pending, load, NOW).size());
  }

  @Test
  void backOffDelaysATask() {
    var waiting = new PendingTask(1, 2, 1, 1, Step.UNLIMITED, 0, NOW + 1);
    assertTrue(Scheduler.decide(List.of(waiting), nodes(4), NOW).isEmpty());
    assertEquals(List.of(1L), ids(Scheduler.decide(List.of(waiting), nodes(4), NOW + 1)));
    assertEquals(2, Scheduler.decide(List.of(waiting), nodes(4), NOW + 1).get(0).attempt());
  }

  @Test
  void spreadsWorkOverNodesByFreeCapacity() {
    var pending = new ArrayList<PendingTask>();
    for (long id = 1; id <= 6; id++) {
      pending.add(task(id, 1, Step.UNLIMITED, 0));
    }
    var decided = Scheduler.decide(pending, nodes(4, 2, 0), NOW);
    Map<String, Integer> perNode = new HashMap<>();
    decided.forEach(a -> perNode.merge(a.node(), 1, Integer::sum));
    assertEquals(Map.of("n1", 4, "n2", 2), perNode);
    // The first goes to the roomiest node; ties go to the smaller name.
    assertEquals("n1", decided.get(0).node());
  }

  @Test
  void noCapacityNoAssignment() {
    assertTrue(Scheduler.decide(List.of(task(1, 1, Step.UNLIMITED, 0)), nodes(0, -2), NOW).isEmpty());
  }

  @Test
  void sameInputSameDecision() {
    var pending = new ArrayList<PendingTask>();
    for (long id = 1; id <= 50; id++) {
      pending.add(task(id, id % 3, (int) (id % 4) + 1, (int) (id % 2)));
    }
    var a = Scheduler.decide(pending, nodes(5, 5, 5), NOW);
    var reversed = new ArrayList<>(pending);
    java.util.Collections.reverse(reversed);
    assertEquals(a, Scheduler.decide(reversed, nodes(5, 5, 5), NOW));
  }
}
