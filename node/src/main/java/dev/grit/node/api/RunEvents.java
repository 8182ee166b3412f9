package dev.grit.node.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.consensus.state.StateEvent;
import dev.grit.node.Node;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * {@code GET /v1/runs/{id}/events}: a run's events as server-sent events, one per {@link
 * StateEvent} about the run ({@code event: AttemptEnded}, {@code data: {...}}), until its {@code
 * RunEnded}, after which the stream closes. A stream starts with the attempts of the run that
 * ended before the client connected, rebuilt from the record, so a watcher that connects late (or
 * reconnects) misses nothing; each attempt is told once per stream. A run that already ended gets
 * its history and its {@code RunEnded} at once. Every member applies every entry, so any member
 * serves this.
 *
 * <p>Threading: events arrive on the apply thread and are only handed to the connection's executor,
 * which formats and writes them in order; a comment line goes out every heartbeat so idle
 * connections stay open through proxies and dead clients are noticed. The subscription ends when
 * the stream ends or the client goes away.
 */
final class RunEvents {
  private final Node node;
  private final Duration heartbeat;

  RunEvents(Node node, Duration heartbeat) {
    this.node = node;
    this.heartbeat = heartbeat;
  }

  void stream(Exchange ex) {
    long id = ex.id("id");
    node.queries().run(id).orElseThrow(() -> RunsResource.noRun(id));
    if (ex.claim()) {
      new Stream(ex.ctx(), ex.executor(), id).open();
    }
  }

  /** One client's stream. Its fields are touched only on {@code executor}. */
  private final class Stream implements Consumer<List<StateEvent>> {
    private final ChannelHandlerContext ctx;
    private final EventExecutor executor;
    private final long runId;
    private final Set<String> told = new HashSet<>();
    private boolean done;
    private ScheduledFuture<?> beat;

    Stream(ChannelHandlerContext ctx, EventExecutor executor, long runId) {
      this.ctx = ctx;
      this.executor = executor;
      this.runId = runId;
    }

    void open() {
      var response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
      response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
      HttpUtil.setTransferEncodingChunked(response, true);
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
      // Subscribe before reading the state: what is applied from now on arrives as an event, what
      // came earlier is in the record; what is in both is told once.
      node.events().subscribe(this);
      deliver(node.queries().attemptHistory(runId));
      if (endedInRecord()) {
        return;
      }
      long every = heartbeat.toMillis();
      beat =
          executor.scheduleAtFixedRate(
              () -> {
                write(": heartbeat\n\n");
                endedInRecord();
              },
              every,
              every,
              TimeUnit.MILLISECONDS);
    }

    /**
     * Ends the stream when the record says the run is over. Most ends arrive as {@code RunEnded}; a
     * run superseded by a later submission ends without one, so this also runs when another run is
     * submitted, and on every heartbeat as a safety net.
     */
    private boolean endedInRecord() {
      if (done) {
        return true;
      }
      var run = node.queries().run(runId);
      if (run.isPresent() && !run.get().state().isFinal()) {
        return false;
      }
      ObjectNode end = Json.MAPPER.createObjectNode();
      end.put("type", "RunEnded");
      end.put("run_id", runId);
      end.put("state", run.map(r -> r.state().name()).orElse("UNKNOWN"));
      write("event: RunEnded\ndata: " + end + "\n\n");
      finish();
      return true;
    }

    @Override
    public void accept(List<StateEvent> events) {
      var mine = new ArrayList<StateEvent>();
      boolean otherSubmitted = false;
      for (StateEvent e : events) {
        if (runOf(e) == runId) {
          mine.add(e);
        } else if (e instanceof StateEvent.RunSubmitted) {
          otherSubmitted = true;
        }
      }
      if (mine.isEmpty() && !otherSubmitted) {
        return;
      }
      boolean recheck = otherSubmitted;
      try {
        executor.execute(
            () -> {
              deliver(mine);
              if (recheck) {
                endedInRecord();
              }
            });
      } catch (RejectedExecutionException e) {
        // The server is shutting down: nobody is left to write to.
        node.events().unsubscribe(this);
      }
    }

    private void deliver(List<StateEvent> events) {
      for (StateEvent e : events) {
        if (done) {
          return;
        }
        String key = attemptKey(e);
        if (key != null && !told.add(key)) {
          continue;
        }
        String type = e.getClass().getSimpleName();
        write("event: " + type + "\ndata: " + json(type, e) + "\n\n");
        if (e instanceof StateEvent.RunEnded) {
          finish();
        }
      }
    }

    private ObjectNode json(String type, StateEvent e) {
      ObjectNode out = Json.MAPPER.createObjectNode();
      out.put("type", type);
      out.setAll((ObjectNode) Json.MAPPER.valueToTree(e));
      if (e instanceof StateEvent.AttemptEnded a) {
        // What a watcher prints next to the task; saves it a request per line.
        out.put("input_name", node.queries().task(a.taskId()).map(t -> t.inputName()).orElse(null));
      }
      return out;
    }

    private void write(String text) {
      if (!done) {
        ctx.writeAndFlush(
            new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
      }
    }

    private void finish() {
      if (done) {
        return;
      }
      stop();
      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
          .addListener(ChannelFutureListener.CLOSE);
    }

    private void stop() {
      done = true;
      node.events().unsubscribe(this);
      if (beat != null) {
        beat.cancel(false);
      }
    }
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
