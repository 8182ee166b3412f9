package dev.grit.node.api;

import dev.grit.consensus.raft.CommandRejectedException;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.RunAlreadyEnded;
import dev.grit.consensus.state.Reply.RunCancelled;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.SubmissionRefused;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateQueries.RunView;
import dev.grit.consensus.state.TaskState;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Lint;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.Problem;
import dev.grit.node.Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * {@code /v1/runs}: submit, list, read and cancel runs. Writes are proposed through Raft from
 * whichever member serves the request (the Raft client finds the leader); reads come from the local
 * record.
 */
final class RunsResource {
  /** Pipeline names, as the manifest parser accepts them. */
  private static final Pattern PIPELINE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /** How long a submission waits for the rules it needs to be raised. */
  private static final Duration RULES_WAIT = Duration.ofSeconds(15);

  private final Node node;
  private final InstantSource clock;
  private final Duration proposalTimeout;
  private final ReadBarrier barrier;

  RunsResource(Node node, InstantSource clock, Duration proposalTimeout, ReadBarrier barrier) {
    this.node = node;
    this.clock = clock;
    this.proposalTimeout = proposalTimeout;
    this.barrier = barrier;
  }

  /** A task that ended FAILED, in a run's view. */
  record FailedTask(long task, String step, String inputName, int attempts, String error) {}

  /** One run as the API shows it. {@code failed} is null in lists. */
  record RunJson(
      long id,
      String pipeline,
      String state,
      String source,
      String submittedAt,
      String finishedAt,
      Map<String, Integer> tasks,
      String reason,
      List<FailedTask> failed) {}

  record Submitted(long run, String pipeline, String requestId, List<String> warnings) {}

  void submit(Exchange ex) {
    String givenSource = ex.query("source");
    String source = givenSource != null ? givenSource : "request";
    String pipeline = ex.query("pipeline");
    if (pipeline != null && !PIPELINE_NAME.matcher(pipeline).matches()) {
      throw ApiException.badRequest(
          "invalid pipeline name", "letters, digits, '.', '_' and '-', at most 128: " + pipeline);
    }
    String start = ex.query("start");
    List<String> steps = ex.queryAll("step");
    int parallel = ex.intQuery("parallel", 0, 0, 1_000_000);
    String requestId = requestId(ex);
    Manifest manifest;
    try {
      String defaultName =
          pipeline != null ? pipeline : givenSource != null ? defaultName(givenSource) : null;
      manifest = ManifestParser.parse(source, ex.bodyText(), defaultName);
    } catch (ManifestException e) {
      throw ApiException.badRequest("invalid manifest", problems(e.problems()));
    }
    checkFilters(manifest, start, steps);
    String name = pipeline != null ? pipeline : manifest.name();
    var command =
        new SubmitRun(
            requestId,
            name,
            source,
            manifest.text(),
            manifest.steps(),
            clock.millis(),
            start,
            steps,
            parallel);
    List<String> warnings = Lint.warnings(manifest).stream().map(Problem::toString).toList();
    awaitRules(command);
    propose(node.raft().submit(command))
        .thenApply(RunsResource::submitted)
        .whenComplete(
            (reply, error) -> {
              if (error != null) {
                ex.fail(error);
                return;
              }
              long run = reply.runId();
              // The reply comes from the leader's apply; answer once this node has applied it
              // too, so what the client asks this node next already knows the run.
              barrier
                  .await()
                  .whenComplete(
                      (ok, behind) -> {
                        if (behind != null) {
                          ex.fail(behind);
                        } else {
                          ex.json(
                              HttpResponseStatus.CREATED,
                              new Submitted(run, name, requestId, warnings));
                        }
                      });
            });
  }

  /**
   * A manifest with gather steps needs rules the cluster may not have raised to yet: a cluster
   * that just started raises them within seconds once every member registered.
   */
  private void awaitRules(SubmitRun command) {
    try {
      node.awaitRules(command.rulesNeeded(), RULES_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", null);
    }
  }

  /** The run a submission made; a refusal by the rules is the client's to fix (400). */
  static RunSubmitted submitted(Reply reply) {
    if (reply instanceof SubmissionRefused refused) {
      throw ApiException.badRequest("rejected", refused.reason());
    }
    return reply.as(RunSubmitted.class);
  }

  void list(Exchange ex) {
    int limit = ex.intQuery("limit", 50, 1, 10_000);
    var out = new ArrayList<RunJson>();
    for (RunView run : node.queries().runs(limit)) {
      out.add(json(run, null));
    }
    ex.json(HttpResponseStatus.OK, out);
  }

  void get(Exchange ex) {
    long id = ex.id("id");
    RunView run = node.queries().run(id).orElseThrow(() -> noRun(id));
    var failed = new ArrayList<FailedTask>();
    for (var t : node.queries().failedTasks(id)) {
      failed.add(new FailedTask(t.taskId(), t.step(), t.inputName(), t.attempt(), t.error()));
    }
    ex.json(HttpResponseStatus.OK, json(run, failed));
  }

  void cancel(Exchange ex) {
    long id = ex.id("id");
    RunView run = node.queries().run(id).orElseThrow(() -> noRun(id));
    if (run.state().isFinal()) {
      throw alreadyEnded(id, run.state());
    }
    propose(node.raft().submit(new CancelRun(id, clock.millis())))
        .whenComplete(
            (reply, error) -> {
              if (error != null) {
                ex.fail(error);
              } else if (reply instanceof NoSuchRun) {
                ex.fail(noRun(id));
              } else if (reply instanceof RunAlreadyEnded ended) {
                // It ended between our read and the cancellation's turn in the log.
                ex.fail(alreadyEnded(id, ended.state()));
              } else if (reply instanceof RunCancelled) {
                var body = new LinkedHashMap<String, Object>();
                body.put("run", id);
                body.put("state", RunState.CANCELLED.name());
                ex.json(HttpResponseStatus.OK, body);
              } else {
                ex.fail(new IllegalStateException("a cancellation was answered with " + reply));
              }
            });
  }

  static RunJson json(RunView run, List<FailedTask> failed) {
    var tasks = new LinkedHashMap<String, Integer>();
    for (TaskState s : TaskState.values()) {
      tasks.put(s.name().toLowerCase(Locale.ROOT), run.count(s));
    }
    return new RunJson(
        run.id(),
        run.pipeline(),
        run.state().name(),
        run.source(),
        Json.time(run.submittedAt()),
        Json.time(run.finishedAt()),
        tasks,
        run.reason(),
        failed);
  }

  static ApiException noRun(long id) {
    return ApiException.notFound("no such run", "run " + id);
  }

  /**
   * {@code POST /v1/gc?older_than=30d}: proposes retention with the cut-off this node's clock
   * less the age gives (see {@link Gc}); answers what it removed.
   */
  void gc(Exchange ex) {
    String olderThan = ex.query("older_than");
    if (olderThan == null || olderThan.isBlank()) {
      throw ApiException.badRequest("missing older_than", "say how old a run must be, e.g. 30d");
    }
    Duration age;
    try {
      age = dev.grit.engine.manifest.Durations.parse(olderThan);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("malformed older_than", e.getMessage());
    }
    long now = clock.millis();
    propose(node.raft().submit(new Gc(now - age.toMillis(), now)))
        .whenComplete(
            (reply, error) -> {
              if (error != null) {
                ex.fail(error);
              } else if (reply instanceof Reply.Collected c) {
                var body = new LinkedHashMap<String, Object>();
                body.put("cutoff", Instant.ofEpochMilli(now - age.toMillis()).toString());
                body.put("runs", c.runs());
                body.put("attempts", c.attempts());
                body.put("tasks", c.tasks());
                body.put("resources", c.resources());
                body.put("objects", c.objects());
                body.put("chunks", c.chunks());
                ex.json(HttpResponseStatus.OK, body);
              } else if (reply instanceof Reply.GcNotYet g) {
                ex.fail(
                    ApiException.conflict(
                        "gc needs newer rules",
                        "the cluster follows rules version " + g.rulesVersion()
                            + ": upgrade every member first"));
              } else {
                ex.fail(new IllegalStateException("a gc was answered with " + reply));
              }
            });
  }

  private static ApiException alreadyEnded(long id, RunState state) {
    return ApiException.conflict(
        "run already ended", "run " + id + " is " + state.name().toLowerCase(Locale.ROOT));
  }

  /**
   * The proposal's outcome within the timeout: a refusal by the state machine is the client's fault
   * (400); no quorum or no answer in time is the cluster's (503).
   */
  private <R> CompletableFuture<R> propose(CompletableFuture<R> proposal) {
    return proposal
        .orTimeout(proposalTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            error -> {
              Throwable t = Exchange.unwrap(error);
              ApiException mapped;
              if (t instanceof CommandRejectedException r) {
                mapped = ApiException.badRequest("rejected", r.getMessage());
              } else if (t instanceof TimeoutException) {
                mapped =
                    ApiException.unavailable(
                        "Raft unavailable",
                        "no commit within " + proposalTimeout.toSeconds() + "s");
              } else {
                mapped = ApiException.unavailable("Raft unavailable", t.toString());
              }
              return CompletableFuture.failedFuture(mapped);
            });
  }

  /** The client's idempotency key, so a retried submission makes one run; else a fresh one. */
  private static String requestId(Exchange ex) {
    for (String candidate :
        new String[] {ex.query("request_id"), ex.header("Request-Id"), ex.header("request_id")}) {
      if (candidate != null && !candidate.isBlank()) {
        if (candidate.length() > 200) {
          throw ApiException.badRequest("malformed request_id", "at most 200 characters");
        }
        return candidate;
      }
    }
    return UUID.randomUUID().toString();
  }

  private static void checkFilters(Manifest manifest, String start, List<String> steps) {
    var unknown = new ArrayList<String>();
    if (start != null && manifest.step(start).isEmpty()) {
      unknown.add("start " + start + ": no such step");
    }
    for (String s : steps) {
      if (manifest.step(s).isEmpty()) {
        unknown.add("step " + s + ": no such step");
      }
    }
    if (!unknown.isEmpty()) {
      throw ApiException.badRequest("unknown step", unknown);
    }
    if (start != null && !steps.isEmpty() && !steps.contains(start)) {
      throw ApiException.badRequest(
          "unknown step", List.of("start " + start + " is not among the step filters"));
    }
  }

  private static List<Map<String, Object>> problems(List<Problem> problems) {
    var out = new ArrayList<Map<String, Object>>();
    for (Problem p : problems) {
      var m = new LinkedHashMap<String, Object>();
      m.put("file", p.source());
      m.put("line", p.line());
      m.put("column", p.column());
      m.put("field", p.field());
      m.put("message", p.message());
      out.add(m);
    }
    return out;
  }

  /**
   * The pipeline name when the manifest sets none: the source's file name without extension, as for
   * a local file ({@code dir/workflow.toml} → {@code workflow}).
   */
  static String defaultName(String source) {
    String name = source.substring(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
