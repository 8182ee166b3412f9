package dev.grit.node.schedule;

import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.plan.Scheduler;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * While this node leads: reads what is pending and assigned, asks the pure {@link Scheduler}
 * what to start, and proposes the decision as one {@link AssignTasks} entry. It waits for that
 * entry to be applied before deciding again, so it never decides twice on the same view. Woken
 * by every applied entry that may free capacity or create work; otherwise it polls, which also
 * catches retry back-offs running out.
 */
public final class LeaderLoop implements Consumer<List<StateEvent>>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderLoop.class);
  private static final long POLL_MILLIS = 100;

  private final RaftNode raft;
  private final Supplier<StateQueries> queries;
  private final Supplier<Map<String, Integer>> capacity;
  private final InstantSource clock;
  private final Semaphore wake = new Semaphore(0);
  private final Thread thread;
  private volatile boolean running = true;

  /**
   * @param capacity how many attempts each node that takes work may hold (running and queued)
   */
  public LeaderLoop(
      RaftNode raft,
      Supplier<StateQueries> queries,
      Supplier<Map<String, Integer>> capacity,
      InstantSource clock) {
    this.raft = raft;
    this.queries = queries;
    this.capacity = capacity;
    this.clock = clock;
    this.thread = new Thread(this::loop, "grit-leader");
    this.thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  @Override
  public void accept(List<StateEvent> events) {
    wake.release();
  }

  private void loop() {
    while (running) {
      try {
        wake.tryAcquire(POLL_MILLIS, TimeUnit.MILLISECONDS);
        wake.drainPermits();
        if (running && raft.isLeaderReady()) {
          decideOnce();
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        if (running) {
          LOG.warn("scheduling round failed; retrying: {}", e.toString());
        }
      }
    }
  }

  /** One scheduling round; returns how many attempts were proposed. */
  int decideOnce() throws Exception {
    Map<String, Integer> nodes = capacity.get();
    StateQueries q = queries.get();
    var load = q.load(nodes);
    if (load.totalFree() <= 0) {
      return 0;
    }
    var pending = q.pending(load.totalFree());
    var assignments = Scheduler.decide(pending, load, clock.millis());
    if (assignments.isEmpty()) {
      return 0;
    }
    raft.submit(new AssignTasks(clock.millis(), assignments)).get(60, TimeUnit.SECONDS);
    return assignments.size();
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
