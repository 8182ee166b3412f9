package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

class RecentReadsTest {
  private final AtomicInteger started = new AtomicInteger();

  private CompletableFuture<ByteString> start(CompletableFuture<ByteString> read) {
    started.incrementAndGet();
    return read;
  }

  @Test
  void everyAskForAnEntryGetsTheOneReadInFlightOrDone() {
    var reads = new RecentReads(100);
    var read = new CompletableFuture<ByteString>();

    var first = reads.get(TermIndex.valueOf(1, 7), 10, () -> start(read));
    var second = reads.get(TermIndex.valueOf(1, 7), 10, () -> start(new CompletableFuture<>()));
    read.complete(ByteString.copyFromUtf8("bytes"));
    var third = reads.get(TermIndex.valueOf(1, 7), 10, () -> start(new CompletableFuture<>()));

    assertSame(read, first);
    assertSame(read, second);
    assertSame(read, third);
    assertEquals(1, started.get());
  }

  @Test
  void theSameIndexInAnotherTermIsAnotherEntry() {
    var reads = new RecentReads(100);
    var old = reads.get(TermIndex.valueOf(1, 7), 10, () -> start(new CompletableFuture<>()));
    var rewritten = reads.get(TermIndex.valueOf(2, 7), 10, () -> start(new CompletableFuture<>()));

    assertNotSame(old, rewritten);
    assertEquals(2, started.get());
  }

  @Test
  void aFailedReadIsForgottenSoTheNextAskReadsAgain() {
    var reads = new RecentReads(100);
    var failing = new CompletableFuture<ByteString>();
    reads.get(TermIndex.valueOf(1, 7), 10, () -> start(failing));
    failing.completeExceptionally(new java.io.IOException("disk"));

    var again = reads.get(TermIndex.valueOf(1, 7), 10, () -> start(new CompletableFuture<>()));

    assertNotSame(failing, again);
    assertEquals(2, started.get());
  }

  @Test
  void theLeastRecentlyAskedGoFirstBeyondTheBudgetButNeverTheNewest() {
    var reads = new RecentReads(25);
    var a = reads.get(TermIndex.valueOf(1, 1), 10, () -> start(new CompletableFuture<>()));
    reads.get(TermIndex.valueOf(1, 2), 10, () -> start(new CompletableFuture<>()));
    reads.get(TermIndex.valueOf(1, 1), 10, () -> start(new CompletableFuture<>())); // asked again
    reads.get(TermIndex.valueOf(1, 3), 10, () -> start(new CompletableFuture<>())); // 30 > 25

    assertEquals(2, reads.size());
    assertSame(a, reads.get(TermIndex.valueOf(1, 1), 10, () -> start(new CompletableFuture<>())));
    assertEquals(3, started.get());

    reads.get(TermIndex.valueOf(1, 4), 100, () -> start(new CompletableFuture<>())); // over alone
    assertEquals(1, reads.size());
  }
}
