package dev.grit.node.cli;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The lines of a server-sent event stream, read with a deadline: {@link #nextLine} gives up after a
 * silence instead of blocking forever on a connection whose server vanished without closing it.
 * Lines are split on LF bytes (never inside a UTF-8 sequence) with a trailing CR dropped. One
 * reader thread; the HTTP client's threads only enqueue. At most about {@link #MAX_QUEUED_LINES}
 * lines wait for the reader: beyond that the body is not read further until the reader catches up,
 * so a reader that falls behind slows the connection (the server may then drop the stream) instead
 * of growing this process's memory.
 */
final class EventStream implements AutoCloseable {
  private static final Object END = new Object();
  static final int MAX_QUEUED_LINES = 1024;

  private final BlockingQueue<Object> lines = new LinkedBlockingQueue<>();
  private final AtomicBoolean paused = new AtomicBoolean();
  private volatile Flow.Subscription subscription;

  private EventStream() {}

  /** Starts consuming {@code response}'s body. */
  static EventStream of(HttpResponse<Flow.Publisher<List<ByteBuffer>>> response) {
    return of(response.body());
  }

  /** Starts consuming {@code body}. */
  static EventStream of(Flow.Publisher<List<ByteBuffer>> body) {
    var stream = new EventStream();
    body.subscribe(stream.new Splitter());
    return stream;
  }

  /** A silence longer than the deadline. */
  static final class SilenceException extends Exception {
    private static final long serialVersionUID = 1L;

    SilenceException(long millis) {
      super("no data for " + millis + " ms");
    }
  }

  /**
   * The next line, or null at the end of the stream.
   *
   * @throws SilenceException when nothing came for {@code timeoutMillis}
   * @throws java.io.IOException when the connection failed
   */
  String nextLine(long timeoutMillis)
      throws SilenceException, java.io.IOException, InterruptedException {
    Object next = lines.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (next == null) {
      throw new SilenceException(timeoutMillis);
    }
    if (next == END) {
      lines.add(END);
      return null;
    }
    if (next instanceof Throwable t) {
      lines.add(t);
      throw new java.io.IOException("event stream broke: " + t.getMessage(), t);
    }
    resumeIfDrained();
    return (String) next;
  }

  /**
   * Asks for more of the body when reading was paused and the queue is half empty. The reader and
   * the splitter both call it after their change; whichever sees the pause first resumes, once.
   */
  private void resumeIfDrained() {
    if (paused.get() && lines.size() <= MAX_QUEUED_LINES / 2 && paused.compareAndSet(true, false)) {
      subscription.request(1);
    }
  }

  @Override
  public void close() {
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
  }

  private final class Splitter implements Flow.Subscriber<List<ByteBuffer>> {
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      for (ByteBuffer b : buffers) {
        while (b.hasRemaining()) {
          byte c = b.get();
          if (c == '\n') {
            byte[] bytes = line.toByteArray();
            int n =
                bytes.length > 0 && bytes[bytes.length - 1] == '\r'
                    ? bytes.length - 1
                    : bytes.length;
            lines.add(new String(bytes, 0, n, StandardCharsets.UTF_8));
            line.reset();
          } else {
            line.write(c);
          }
        }
      }
      if (lines.size() < MAX_QUEUED_LINES) {
        subscription.request(1);
      } else {
        paused.set(true);
        resumeIfDrained(); // the reader may have emptied the queue meanwhile
      }
    }

    @Override
    public void onError(Throwable t) {
      lines.add(t);
    }

    @Override
    public void onComplete() {
      lines.add(END);
    }
  }
}
