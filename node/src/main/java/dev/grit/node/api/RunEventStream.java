package dev.grit.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.consensus.state.StateEvent;
import dev.grit.node.Node;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client's stream of a run's events (see {@link RunEvents}): the run's history from the record,
 * then its events as they are applied, until its end.
 *
 * <p>Backpressure: the apply thread only appends the run's events to this stream's bounded queue
 * and, when no drain is pending, hands one drain to the connection's executor; it never waits for a
 * client, and the executor holds at most one task per stream. The drain formats and writes events
 * only while the channel is writable (netty holds less than the write buffer's high water mark for
 * the socket) and resumes when netty reports it writable again. So a client that stops reading
 * costs the queue's limits plus the write buffer. An event that would take the queue past its
 * limits discards the queue: the client gets, after what was written already, one last event
 * ({@code Dropped}, with the reason) and the end of the stream. A client that reconnects loses
 * nothing: every stream starts with the run's history.
 *
 * <p>Threading: the queue and the flags beside it are guarded by this object's lock, which the
 * apply thread holds only to append; everything else is touched only on {@code executor}.
 */
final class RunEventStream implements Consumer<List<StateEvent>> {
  private static final Logger LOG = LoggerFactory.getLogger(RunEventStream.class);

  /** A client that does not take the end of its stream is disconnected after this long. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(30);

  private record Queued(StateEvent event, long bytes) {}

  private final RunEvents owner;
  private final Node node;
  private final ChannelHandlerContext ctx;
  private final EventExecutor executor;
  private final long runId;
  private final EventStreamLimits limits;
  private final Duration heartbeat;

  // Guarded by this.
  private final ArrayDeque<Queued> queued = new ArrayDeque<>();
  private long queuedBytes;
  private String dropReason;
  private boolean drainPending;
  private boolean closed;

  /** Whether the record must be asked if the run ended (a run superseded ends with no event). */
  private boolean recheckEnd = true;

  // Executor only.
  private final Set<String> told = new HashSet<>();
  private Iterator<StateEvent> history = Collections.emptyIterator();
  private boolean done;
  private ScheduledFuture<?> beat;

  RunEventStream(
      RunEvents owner,
      Node node,
      ChannelHandlerContext ctx,
      EventExecutor executor,
      long runId,
      EventStreamLimits limits,
      Duration heartbeat) {
    this.owner = owner;
    this.node = node;
    this.ctx = ctx;
    this.executor = executor;
    this.runId = runId;
    this.limits = limits;
    this.heartbeat = heartbeat;
  }

  /** Sends the response's head and starts the stream; on {@code executor}. */
  void open() {
    var response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
    HttpUtil.setTransferEncodingChunked(response, true);
    // The connection ends with the stream: said in the head, so that no client puts it back in
    // its pool (over TLS the close was seen to arrive after the client had reused the connection).
    HttpUtil.setKeepAlive(response, false);
    int high = limits.writeBufferBytes();
    ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(high / 2, high));
    if (limits.socketSendBufferBytes() > 0) {
      ctx.channel().config().setOption(ChannelOption.SO_SNDBUF, limits.socketSendBufferBytes());
    }
    ctx.pipeline().addLast(new WritabilityWatch());
    ctx.writeAndFlush(response);
    ctx.channel()
        .closeFuture()
        .addListener(
            f -> {
              try {
                executor.execute(this::stop);
              } catch (RejectedExecutionException e) {
                // The server is shutting down; the subscription must still go.
                node.events().unsubscribe(this);
              }
            });
    try {
      // Subscribe before reading the record: what is applied from now on arrives as an event, what
      // came earlier is in the history; what is in both is told once.
      node.events().subscribe(this);
      history = node.queries().attemptHistory(runId).iterator();
      long every = heartbeat.toMillis();
      beat = executor.scheduleAtFixedRate(this::heartbeat, every, every, TimeUnit.MILLISECONDS);
      drain();
    } catch (RuntimeException e) {
      LOG.warn("event stream of run {} failed", runId, e);
      stop();
      ctx.close();
    }
  }

  /** Takes the run's events from an applied entry; on the apply thread, so it only enqueues. */
  @Override
  public void accept(List<StateEvent> events) {
    List<StateEvent> mine = null;
    boolean otherSubmitted = false;
    for (StateEvent e : events) {
      if (runOf(e) == runId) {
        if (mine == null) {
          mine = new ArrayList<>();
        }
        mine.add(e);
      } else if (e instanceof StateEvent.RunSubmitted) {
        otherSubmitted = true;
      }
    }
    if (mine == null && !otherSubmitted) {
      return;
    }
    synchronized (this) {
      if (closed || dropReason != null) {
        return;
      }
      recheckEnd |= otherSubmitted;
      for (int i = 0; mine != null && i < mine.size(); i++) {
        StateEvent e = mine.get(i);
        long bytes = estimatedBytes(e);
        if (queued.size() >= limits.maxQueuedEvents()
            || (!queued.isEmpty() && queuedBytes + bytes > limits.maxQueuedBytes())) {
          dropReason =
              "the client fell %d events behind (at most %d events or %d bytes wait for one client)"
                  .formatted(
                      queued.size() + mine.size() - i,
                      limits.maxQueuedEvents(),
                      limits.maxQueuedBytes());
          queued.clear();
          queuedBytes = 0;
          break;
        }
        queued.add(new Queued(e, bytes));
        queuedBytes += bytes;
      }
      if (drainPending) {
        return;
      }
      drainPending = true;
    }
    schedule();
  }

  /** Asks for a drain unless one is pending. */
  private void wake() {
    synchronized (this) {
      if (closed || drainPending) {
        return;
      }
      drainPending = true;
    }
    schedule();
  }

  private void schedule() {
    try {
      executor.execute(this::drain);
    } catch (RejectedExecutionException e) {
      // The server is shutting down: nobody is left to write to.
      node.events().unsubscribe(this);
    }
  }

  /**
   * Writes the history, then the queue, while the channel is writable; ends the stream when the
   * queue overflowed, or when both are told and the record says the run is over.
   */
  private void drain() {
    synchronized (this) {
      drainPending = false;
    }
    boolean wrote = false;
    while (!done) {
      boolean writable = ctx.channel().isWritable();
      String drop;
      Queued next = null;
      boolean checkEnd = false;
      synchronized (this) {
        drop = dropReason;
        if (drop == null && writable && !history.hasNext()) {
          next = queued.poll();
          if (next != null) {
            queuedBytes -= next.bytes();
          } else {
            checkEnd = recheckEnd;
            recheckEnd = false;
          }
        }
      }
      if (drop != null) {
        owner.countDrop();
        end(event("Dropped", Json.MAPPER.createObjectNode().put("reason", drop)));
        return;
      }
      if (!writable) {
        break; // WritabilityWatch wakes the drain when the client has read enough
      }
      if (history.hasNext()) {
        wrote |= tell(history.next());
      } else if (next != null) {
        wrote |= tell(next.event());
      } else {
        if (checkEnd) {
          endedInRecord();
        }
        break;
      }
    }
    if (wrote && !done) {
      ctx.flush();
    }
  }

  /** A comment line when the stream is idle, so proxies keep it open and dead clients show. */
  private void heartbeat() {
    if (done || history.hasNext()) {
      return;
    }
    synchronized (this) {
      if (!queued.isEmpty() || dropReason != null) {
        return; // a drain is due or waits for the client to read: the client is not idle
      }
    }
    if (ctx.channel().isWritable()) {
      write(": heartbeat\n\n");
      ctx.flush();
    }
    // A safety net: the end of a run is normally an event or noticed at a submission.
    endedInRecord();
  }

  /** Ends the stream with {@code RunEnded} when the record says the run is over. */
  private void endedInRecord() {
    if (done) {
      return;
    }
    var run = node.queries().run(runId);
    if (run.isPresent() && !run.get().state().isFinal()) {
      return;
    }
    end(
        event(
            "RunEnded",
            Json.MAPPER
                .createObjectNode()
                .put("state", run.map(r -> r.state().name()).orElse("UNKNOWN"))));
  }

  /** Writes one event unless this attempt was told already; true when something was written. */
  private boolean tell(StateEvent e) {
    String key = attemptKey(e);
    if (key != null && !told.add(key)) {
      return false;
    }
    String type = e.getClass().getSimpleName();
    ObjectNode data = Json.MAPPER.createObjectNode();
    data.setAll((ObjectNode) Json.MAPPER.valueToTree(e));
    if (e instanceof StateEvent.AttemptEnded a) {
      // What a watcher prints next to the task; saves it a request per line.
      data.put("input_name", node.queries().task(a.taskId()).map(t -> t.inputName()).orElse(null));
    }
    if (e instanceof StateEvent.RunEnded) {
      end(event(type, data));
    } else {
      write(event(type, data));
    }
    return true;
  }

  /** The text of one event: {@code type} first in its data, then the run, then {@code fields}. */
  private String event(String type, ObjectNode fields) {
    ObjectNode data = Json.MAPPER.createObjectNode();
    data.put("type", type);
    data.put("run_id", runId);
    data.setAll(fields);
    return "event: " + type + "\ndata: " + data + "\n\n";
  }

  private void write(String text) {
    ctx.write(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    if (buffer != null) {
      owner.sawBuffered(buffer.totalPendingWriteBytes());
    }
  }

  /** Writes {@code last}, ends the response and closes the connection once the client has it. */
  private void end(String last) {
    if (done) {
      return;
    }
    stop();
    write(last);
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
    var channel = ctx.channel();
    ScheduledFuture<?> deadline =
        channel
            .eventLoop()
            .schedule(() -> channel.close(), CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    channel.closeFuture().addListener(f -> deadline.cancel(false));
  }

  private void stop() {
    done = true;
    synchronized (this) {
      closed = true;
      queued.clear();
      queuedBytes = 0;
    }
    node.events().unsubscribe(this);
    if (beat != null) {
      beat.cancel(false);
    }
  }

  /** Wakes the drain when a client that fell behind the write buffer has read enough of it. */
  private final class WritabilityWatch extends ChannelInboundHandlerAdapter {
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext c) {
      if (c.channel().isWritable()) {
        wake();
      }
      c.fireChannelWritabilityChanged();
    }
  }

  /**
   * About how many bytes an event takes written out: its strings plus the field names around them.
   * Cheap enough for the apply thread; it only has to grow with the event.
   */
  static long estimatedBytes(StateEvent e) {
    if (e instanceof StateEvent.AttemptEnded a) {
      long n = 320 + length(a.step()) + length(a.node()) + length(a.error());
      for (String o : a.outputs()) {
        n += length(o) + 3;
      }
      return n;
    } else if (e instanceof StateEvent.AttemptLost l) {
      return 160 + length(l.node()) + length(l.reason());
    }
    return 100;
  }

  private static int length(String s) {
    return s == null ? 4 : s.length();
  }

  /** Names the attempt an event ends, or null for events that end none. */
  private static String attemptKey(StateEvent e) {
    if (e instanceof StateEvent.AttemptEnded a) {
      return a.taskId() + "/" + a.attempt();
    } else if (e instanceof StateEvent.AttemptLost l) {
      return l.taskId() + "/" + l.attempt();
    }
    return null;
  }

  /** The run an event is about, or 0 when it is about none in particular. */
  private static long runOf(StateEvent e) {
    if (e instanceof StateEvent.AttemptEnded a) {
      return a.runId();
    } else if (e instanceof StateEvent.AttemptLost l) {
      return l.runId();
    } else if (e instanceof StateEvent.RunEnded r) {
      return r.runId();
    } else if (e instanceof StateEvent.RunSubmitted s) {
      return s.runId();
    }
    return 0;
  }
}
