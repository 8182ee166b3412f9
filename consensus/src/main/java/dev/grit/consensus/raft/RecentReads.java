package dev.grit.consensus.raft;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * The chunk bytes the leader read back for followers, by log entry, in flight or done, up to a
 * byte budget (least recently asked for go first).
 *
 * <p>Ratis's log appender waits for an entry's bytes only until its next heartbeat is due (tens of
 * milliseconds), then gives up and asks again, for the same entry, with a new read. A read slower
 * than that window (a large entry, a busy disk or CPU) never came back in time, and the reads it
 * abandoned queued up ahead of the next: a follower catching up stalled for as long as the
 * slowness lasted. Here every ask for an entry gets the one read, which ends at most once.
 */
final class RecentReads {
  private final long byteBudget;
  private final Map<TermIndex, Read> reads = new LinkedHashMap<>(16, 0.75f, true);
  private long bytes;

  private record Read(CompletableFuture<ByteString> bytes, long size) {}

  RecentReads(long byteBudget) {
    this.byteBudget = byteBudget;
  }

  /**
   * The read of entry {@code key} ({@code size} bytes), started by {@code start} unless one is in
   * flight or done. A read that failed is forgotten, so the next ask tries again.
   */
  CompletableFuture<ByteString> get(
      TermIndex key, long size, Supplier<CompletableFuture<ByteString>> start) {
    CompletableFuture<ByteString> read;
    synchronized (this) {
      Read known = reads.get(key);
      if (known != null) {
        return known.bytes();
      }
      read = start.get();
      reads.put(key, new Read(read, size));
      bytes += size;
      evictBeyondBudget(key);
    }
    read.whenComplete(
        (ok, error) -> {
          if (error != null) {
            forget(key, read);
          }
        });
    return read;
  }

  /** Entries held now; for tests. */
  synchronized int size() {
    return reads.size();
  }

  private void evictBeyondBudget(TermIndex newest) {
    Iterator<Map.Entry<TermIndex, Read>> eldestFirst = reads.entrySet().iterator();
    while (bytes > byteBudget && eldestFirst.hasNext()) {
      var e = eldestFirst.next();
      if (!e.getKey().equals(newest)) {
        bytes -= e.getValue().size();
        eldestFirst.remove();
      }
    }
  }

  private synchronized void forget(TermIndex key, CompletableFuture<ByteString> read) {
    Read known = reads.get(key);
    if (known != null && known.bytes() == read) {
      reads.remove(key);
      bytes -= known.size();
    }
  }
}
