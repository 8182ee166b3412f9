package dev.grit.node.objects;

import dev.grit.consensus.state.StateEvent;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's object store complete, fetching from peers the chunks the record points at
 * and this node lacks: a whole pass after every installed snapshot (whose objects came without
 * their bytes) and once an hour; between them, a pass a minute over the objects recorded since
 * the last one only, so a long history is not read again and again. Where the last pass ended is
 * kept in a file, so a restart goes on from there instead of reading the whole record again.
 * Entries applied here bring their chunks with them; the passes catch what a snapshot or a failed
 * fetch left out.
 */
public final class ChunkRepair implements Consumer<List<StateEvent>>, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ChunkRepair.class);

  private static final long WHOLE_PASS_EVERY_MILLIS = TimeUnit.HOURS.toMillis(1);

  private final ChunkFetcher fetcher;
  /** The last object row a pass covered; 0 asks for a whole pass. Used on the executor only. */
  private long lastRow;
  private long lastWholePass;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "grit-chunk-repair");
            t.setDaemon(true);
            return t;
          });

  private final Path mark;

  /** @param mark the file that keeps the last object row a pass covered */
  public ChunkRepair(ChunkFetcher fetcher, Path mark) {
    this.fetcher = fetcher;
    this.mark = mark;
    this.lastRow = readMark(mark);
    // The hour's whole pass counts from here: a restart is no reason to read everything.
    this.lastWholePass = System.currentTimeMillis();
  }

  private static long readMark(Path mark) {
    try {
      return Long.parseLong(Files.readString(mark).trim());
    } catch (IOException | NumberFormatException e) {
      return 0; // none yet, or unreadable: a whole pass
    }
  }

  private void writeMark(long row) {
    try {
      Path tmp = mark.resolveSibling(mark.getFileName() + ".tmp");
      Files.writeString(tmp, Long.toString(row));
      Files.move(tmp, mark, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.debug("could not keep the repair mark: {}", e.toString());
    }
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::pass, 0, 60, TimeUnit.SECONDS);
  }

  @Override
  public void accept(List<StateEvent> events) {
    for (StateEvent e : events) {
      if (e instanceof StateEvent.SnapshotInstalled) {
        executor.execute(
            () -> {
              lastRow = 0;
              writeMark(0);
              pass();
            });
      }
    }
  }

  private void pass() {
    try {
      long now = System.currentTimeMillis();
      if (now - lastWholePass > WHOLE_PASS_EVERY_MILLIS) {
        lastRow = 0;
      }
      if (lastRow == 0) {
        lastWholePass = now;
      }
      long row = fetcher.repairSince(lastRow);
      if (row != lastRow) {
        lastRow = row;
        writeMark(row);
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
