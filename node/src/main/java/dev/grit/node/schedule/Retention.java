package dev.grit.node.schedule;

import dev.grit.consensus.raft.RaftNode;
import dev.grit.engine.command.Gc;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code grit node --retain AGE}: while this node leads, it proposes a {@link Gc} every {@link
 * #EVERY}, with the cut-off its clock less {@code retain} gives, so the record and the object store
 * stop growing with time. Any member may lead; each proposes only while it does.
 */
public final class Retention implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
  static final Duration EVERY = Duration.ofHours(1);

  private final RaftNode raft;
  private final Duration retain;
  private final InstantSource clock;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "grit-retention");
            t.setDaemon(true);
            return t;
          });

  public Retention(RaftNode raft, Duration retain, InstantSource clock) {
    this.raft = raft;
    this.retain = retain;
    this.clock = clock;
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::pass, 1, EVERY.toMinutes(), TimeUnit.MINUTES);
  }

  private void pass() {
    if (!raft.isLeaderReady()) {
      return;
    }
    long now = clock.millis();
    try {
      var reply = raft.submit(new Gc(now - retain.toMillis(), now)).get(5, TimeUnit.MINUTES);
      LOG.info("retention of {}: {}", retain, reply);
    } catch (Exception e) {
      LOG.warn("retention pass failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
