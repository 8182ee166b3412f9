package dev.grit.node.schedule;

import dev.grit.consensus.raft.GroupView;
import dev.grit.consensus.raft.Proposer;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.StateQueries;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.plan.Scheduler;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
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
  private static final long RULES_CHECK_MILLIS = 5_000;

  private final GroupView group;
  private final Proposer proposer;
  private final Supplier<StateQueries> queries;
  private final Liveness liveness;
  private final InstantSource clock;
  private final Semaphore wake = new Semaphore(0);
  private final Thread thread;
  private volatile boolean running = true;

  private long leaderSince = -1;
  private long nextRulesCheck;

  /**
   * @param capacityOf how many attempts (running and queued) a node with so many slots may hold
   */
  public LeaderLoop(
      GroupView group,
      Proposer proposer,
      Supplier<StateQueries> queries,
      String self,
      Duration nodeTimeout,
      boolean leaderRunsTasks,
      IntUnaryOperator capacityOf,
      InstantSource clock) {
    this.group = group;
    this.proposer = proposer;
    this.queries = queries;
    this.liveness = new Liveness(group, self, nodeTimeout, leaderRunsTasks, capacityOf);
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
        if (running) {
          tick();
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

  /** One round: while this member leads, gives back the work of lost nodes and assigns more. */
  void tick() throws Exception {
    if (!group.isLeaderReady()) {
      leaderSince = -1;
      return;
    }
    if (leaderSince < 0) {
      leaderSince = clock.millis();
      liveness.reset();
    }
    expireLost();
    decideOnce();
    raiseRulesVersion();
  }

  /** Gives the attempts of nodes silent past the timeout back, so they run elsewhere. */
  private void expireLost() throws Exception {
    StateQueries q = queries.get();
    var assigned = q.assignedByNode();
    var lost = liveness.lost(assigned.keySet(), clock.millis() - leaderSince);
    if (lost.isEmpty()) {
      return;
    }
    var expiries = new ArrayList<ExpireAttempts.Expiry>();
    for (String node : lost) {
      for (var a : assigned.get(node)) {
        expiries.add(new ExpireAttempts.Expiry(a.taskId(), a.attempt(), "node " + node + " is silent"));
      }
    }
    LOG.warn("nodes {} are silent: giving back {} attempts", lost, expiries.size());
    proposer.submit(new ExpireAttempts(clock.millis(), expiries)).get(60, TimeUnit.SECONDS);
  }

  /**
   * Raises the record's rules version once every member's code supports a newer one. Checked
   * now and then: registrations change only when nodes start.
   */
  private void raiseRulesVersion() throws Exception {
    long now = clock.millis();
    if (now < nextRulesCheck) {
      return;
    }
    nextRulesCheck = now + RULES_CHECK_MILLIS;
    StateQueries q = queries.get();
    var supported = new java.util.HashMap<String, Integer>();
    q.nodes().forEach(n -> supported.put(n.id(), n.rulesVersion()));
    var raise = RulesVersion.raiseTo(q.rulesVersion(), group.voters(), supported);
    if (raise.isPresent()) {
      LOG.info("every member supports rules version {}: raising it", raise.getAsInt());
      proposer.submit(new RaiseRulesVersion(raise.getAsInt(), now)).get(60, TimeUnit.SECONDS);
    }
  }

  /** One scheduling round; returns how many attempts were proposed. */
  int decideOnce() throws Exception {
    StateQueries q = queries.get();
    Map<String, Integer> nodes = liveness.capacity(q.nodes(), clock.millis());
    var load = q.load(nodes);
    if (load.totalFree() <= 0) {
      return 0;
    }
    var pending = q.pending(load.totalFree());
    var assignments = Scheduler.decide(pending, load, clock.millis());
    if (assignments.isEmpty()) {
      return 0;
    }
    proposer.submit(new AssignTasks(clock.millis(), assignments)).get(60, TimeUnit.SECONDS);
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
