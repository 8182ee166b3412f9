package dev.grit.node.api;

import dev.grit.node.LogPrinter;
import dev.grit.consensus.state.StateQueries.AttemptInfo;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.engine.object.Digest;
import dev.grit.node.Node;
import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.engine.execute.LogTail;
import dev.grit.engine.execute.TaskRunner;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@code /v1/tasks/{id}} and its log: what {@code grit logs} shows, from any member. */
final class TasksResource {
  private static final Logger LOG = LoggerFactory.getLogger(TasksResource.class);
  static final String OFFSET = "Grit-Log-Offset";
  static final String RUNNING = "Grit-Log-Running";
  static final String SKIPPED = "Grit-Log-Skipped";

  private final Node node;
  private final LogPrinter logs;

  TasksResource(Node node) {
    this.node = node;
    this.logs = new LogPrinter(node::queries, node.chunks());
  }

  record Input(String name, Digest hash) {}

  /** One of the task's inputs: every member of a gather task's set, in the order it sees them. */
  record InputJson(long resource, String name, Digest hash, long size) {}

  /** A resource the task published: download its bytes from {@code /v1/objects/{hash}}. */
  record OutputJson(long resource, String name, Digest hash, long size) {}

  record Attempt(
      int n,
      String node,
      String outcome,
      Integer exitCode,
      String error,
      Digest log,
      String assignedAt,
      String startedAt,
      String finishedAt) {}

  record TaskJson(
      long id,
      long run,
      String pipeline,
      String step,
      int version,
      String state,
      int attempt,
      String node,
      boolean gather,
      Input input,
      List<InputJson> inputs,
      String error,
      List<Attempt> attempts,
      List<OutputJson> outputs) {}

  void get(Exchange ex) {
    long id = ex.id("id");
    TaskSpec t = node.queries().task(id).orElseThrow(() -> noTask(id));
    var attempts = new ArrayList<Attempt>();
    for (AttemptInfo a : node.queries().attempts(id)) {
      attempts.add(
          new Attempt(
              a.n(),
              a.node(),
              a.outcome().name(),
              a.exitCode(),
              a.error(),
              a.logHash(),
              Json.time(a.assignedAt()),
              Json.time(a.startedAt()),
              Json.time(a.finishedAt())));
    }
    ex.json(
        HttpResponseStatus.OK,
        new TaskJson(
            t.taskId(),
            t.runId(),
            t.pipeline(),
            t.step().name(),
            t.stepVersion(),
            t.state().name(),
            t.attempt(),
            t.node(),
            t.step().gather(),
            t.inputName() == null ? null : new Input(t.inputName(), t.inputHash()),
            node.queries().inputs(id).stream()
                .map(i -> new InputJson(i.resourceId(), i.name(), i.hash(), i.size()))
                .toList(),
            t.error(),
            attempts,
            outputs(id)));
  }

  private List<OutputJson> outputs(long taskId) {
    var out = new ArrayList<OutputJson>();
    for (long resource : node.queries().outputs(taskId)) {
      node.queries()
          .resource(resource)
          .ifPresent(r -> out.add(new OutputJson(r.id(), r.name(), r.hash(), r.size())));
    }
    return out;
  }

  /**
   * Plain text, as {@code grit logs} prints it; bounded, since each stored tail is. {@code
   * ?attempt=N}: only that attempt (404 when the task has none such), as {@code grit logs -f}
   * prints each attempt once it ended. {@code ?attempt=N&from=K}: that attempt's output from byte
   * K, without a header, while it runs too (see {@link #follow}).
   */
  void log(Exchange ex) {
    long id = ex.id("id");
    node.queries().task(id).orElseThrow(() -> noTask(id));
    int attempt = ex.intQuery("attempt", 0, 1, Integer.MAX_VALUE);
    if (ex.query("from") != null) {
      if (attempt == 0) {
        throw ApiException.badRequest("from needs attempt", "give ?attempt=N with ?from=K");
      }
      follow(ex, id, attempt, offset(ex));
      return;
    }
    var bytes = new ByteArrayOutputStream();
    try (var out = new PrintStream(bytes, false, StandardCharsets.UTF_8)) {
      if (attempt == 0) {
        logs.printAll(id, out);
      } else if (!logs.printAttempt(id, attempt, out)) {
        throw ApiException.notFound("no such attempt", "task " + id + " attempt " + attempt);
      }
    } catch (IOException e) {
      throw ApiException.unavailable("log not readable here", e.getMessage());
    }
    ex.send(HttpResponseStatus.OK, bytes.toByteArray(), "text/plain; charset=utf-8");
  }

  /**
   * An attempt's output from byte {@code from}: while the record says it runs, what its node's
   * worker has read of it so far (asked of that node when it is another); once it ended, the
   * stored tail. Headers: {@value #OFFSET} (where to read from next), {@value #RUNNING} (whether
   * more may come: poll again) and, when bytes after {@code from} were lost because they left the
   * 64 KiB tail, {@value #SKIPPED}.
   */
  private void follow(Exchange ex, long id, int n, long from) {
    AttemptInfo a =
        node.queries().attempts(id).stream()
            .filter(i -> i.n() == n)
            .findFirst()
            .orElseThrow(
                () -> ApiException.notFound("no such attempt", "task " + id + " attempt " + n));
    if (a.outcome() == AttemptOutcome.RUNNING) {
      // Not (yet, or no longer) readable on its node: nothing new, ask again.
      LogTail.Read live = live(a, from).orElse(new LogTail.Read(new byte[0], from, false, false));
      sendPart(ex, live.bytes(), live.next(), true, live.skipped());
      return;
    }
    byte[] stored;
    try {
      stored = a.logHash() == null ? new byte[0] : logs.read(a);
    } catch (IOException e) {
      throw ApiException.unavailable("log not readable here", e.getMessage());
    }
    if (stored.length < TaskRunner.LOG_TAIL_BYTES) {
      // The whole output: offsets into it are the attempt's.
      int start = (int) Math.min(from, stored.length);
      sendPart(ex, Arrays.copyOfRange(stored, start, stored.length), stored.length, false, false);
      return;
    }
    // A full tail may have lost its start, so offsets into it are not the attempt's: its node may
    // still hold the output until it sees the end recorded; else the whole tail, marked.
    Optional<LogTail.Read> live = from == 0 ? Optional.empty() : live(a, from);
    if (live.isPresent()) {
      sendPart(ex, live.get().bytes(), live.get().next(), false, live.get().skipped());
    } else {
      sendPart(ex, stored, from, false, from > 0);
    }
  }

  private Optional<LogTail.Read> live(AttemptInfo a, long from) {
    if (a.node().equals(node.config().id())) {
      return node.worker().liveLog(a.taskId(), a.n(), from);
    }
    String path = "/v1/attempts/" + a.taskId() + "/" + a.n() + "/live?from=" + from;
    try {
      HttpResponse<byte[]> r = node.fetcher().askMember(a.node(), path, Duration.ofSeconds(5));
      if (r.statusCode() != 200) {
        return Optional.empty();
      }
      HttpHeaders h = r.headers();
      return Optional.of(
          new LogTail.Read(
              r.body(),
              h.firstValueAsLong(OFFSET).orElse(from),
              h.firstValue(SKIPPED).isPresent(),
              h.firstValue(RUNNING).map("false"::equals).orElse(false)));
    } catch (IOException e) {
      LOG.debug("output of task {} attempt {} not readable from {}: {}", a.taskId(), a.n(), a.node(), e.toString());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /**
   * Member-only: what attempt {@code n} of task {@code task} wrote since {@code ?from=K} on this
   * node, for the member a client asked ({@link #follow}); 404 when it does not run here.
   */
  void liveHere(Exchange ex) {
    long task = ex.id("task");
    long n = ex.id("n");
    LogTail.Read read =
        node.worker()
            .liveLog(task, (int) Math.min(n, Integer.MAX_VALUE), offset(ex))
            .orElseThrow(
                () ->
                    ApiException.notFound(
                        "not running here", "task " + task + " attempt " + n + " on " + node.config().id()));
    sendPart(ex, read.bytes(), read.next(), !read.ended(), read.skipped());
  }

  private static long offset(Exchange ex) {
    String raw = ex.query("from");
    try {
      long from = raw == null ? 0 : Long.parseLong(raw.trim());
      if (from >= 0) {
        return from;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw ApiException.badRequest("malformed from", "from must be a byte offset of 0 or more: " + raw);
  }

  private static void sendPart(
      Exchange ex, byte[] bytes, long next, boolean running, boolean skipped) {
    var response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    response.headers().set(OFFSET, next);
    response.headers().set(RUNNING, running);
    if (skipped) {
      response.headers().set(SKIPPED, true);
    }
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    ex.send(response);
  }

  private static ApiException noTask(long id) {
    return ApiException.notFound("no such task", "task " + id);
  }
}
