package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The client's event stream reads the body only as fast as its reader takes lines. */
class EventStreamTest {
  /** A body that delivers only what was asked for, when the test pushes it. */
  static final class Body implements Flow.Publisher<List<ByteBuffer>> {
    final AtomicLong demand = new AtomicLong();
    Flow.Subscriber<? super List<ByteBuffer>> subscriber;
    int sent;

    @Override
    public void subscribe(Flow.Subscriber<? super List<ByteBuffer>> s) {
      subscriber = s;
      s.onSubscribe(
          new Flow.Subscription() {
            @Override
            public void request(long n) {
              demand.addAndGet(n);
            }

            @Override
            public void cancel() {}
          });
    }

    /** Sends lines while the subscriber asks for more. */
    void pushWhileAsked() {
      while (demand.get() > 0) {
        demand.decrementAndGet();
        String line = "data: " + sent++ + "\n";
        subscriber.onNext(List.of(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8))));
      }
    }
  }

  @Test
  void aReaderThatFallsBehindStopsTheBodyUntilItCatchesUp() throws Exception {
    var body = new Body();
    try (var stream = EventStream.of(body)) {
      body.pushWhileAsked();
      assertEquals(EventStream.MAX_QUEUED_LINES, body.sent, "lines taken before it paused");

      int half = EventStream.MAX_QUEUED_LINES / 2;
      for (int i = 0; i < half - 1; i++) {
        assertEquals("data: " + i, stream.nextLine(1_000));
      }
      assertEquals(0, body.demand.get(), "still paused above half the limit");
      assertEquals("data: " + (half - 1), stream.nextLine(1_000));
      assertEquals(1, body.demand.get(), "resumed at half the limit");

      body.pushWhileAsked();
      int queued = EventStream.MAX_QUEUED_LINES - half;
      assertEquals(
          EventStream.MAX_QUEUED_LINES + queued, body.sent, "filled up to the limit again");
      for (int i = half; i < body.sent; i++) {
        assertEquals("data: " + i, stream.nextLine(1_000));
      }
    }
  }
}
