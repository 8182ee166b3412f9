package dev.grit.node.objects;

import dev.grit.consensus.state.StateEvent;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's object store complete: a pass at start, one after every installed snapshot,
 * and one a minute, each fetching from peers the chunks the record points at and this node lacks.
 */
public final class ChunkRepair implements Consumer<List<StateEvent>>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkRepair.class);

  private final ChunkFetcher fetcher;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "grit-chunk-repair");
            t.setDaemon(true);
            return t;
          });

  public ChunkRepair(ChunkFetcher fetcher) {
    this.fetcher = fetcher;
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::pass, 0, 60, TimeUnit.SECONDS);
  }

  @Override
  public void accept(List<StateEvent> events) {
    for (StateEvent e : events) {
      if (e instanceof StateEvent.SnapshotInstalled) {
        executor.execute(this::pass);
      }
    }
  }

  private void pass() {
    try {
      int fetched = fetcher.repairAll();
      if (fetched > 0) {
        LOG.info("fetched {} missing chunks from peers", fetched);
      }
    } catch (RuntimeException e) {
      LOG.warn("chunk repair pass failed: {}", e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
