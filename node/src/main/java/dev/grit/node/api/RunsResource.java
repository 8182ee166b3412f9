package dev.grit.node.api;

import dev.grit.consensus.raft.CommandRejectedException;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.RunAlreadyEnded;
import dev.grit.consensus.state.Reply.RunCancelled;
import dev.grit.consensus.state.Reply.RetryRefused;
import dev.grit.consensus.state.Reply.TasksRetried;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.SubmissionRefused;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateQueries.RunManifest;
import dev.grit.consensus.state.StateQueries.RunTask;
import dev.grit.consensus.state.StateQueries.RunView;
import dev.grit.consensus.state.StateQueries.TaskPage;
import dev.grit.consensus.state.TaskState;
import dev.grit.engine.command.CancelRun;
import dev.grit.node.SubmissionPlan;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Lint;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.NamePattern;
import dev.grit.engine.manifest.Problem;
import dev.grit.engine.manifest.Step;
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
 * {@code /v1/runs}: submit, list, read, cancel and retry runs. Writes are proposed through Raft from
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

  /**
   * A manifest in a request body with the query parameters a submission takes: where it came from
   * ({@code ?source=}), its pipeline ({@code ?pipeline=}, else the manifest's name) and the
   * {@code ?start=} and {@code ?step=} filters, checked against its steps.
   */
  private record Submission(
      Manifest manifest, String pipeline, String source, String start, List<String> steps) {}

  private Submission submission(Exchange ex) {
    String givenSource = ex.query("source");
    String source = givenSource != null ? givenSource : "request";
    String pipeline = ex.query("pipeline");
    if (pipeline != null && !PIPELINE_NAME.matcher(pipeline).matches()) {
      throw ApiException.badRequest(
          "invalid pipeline name", "letters, digits, '.', '_' and '-', at most 128: " + pipeline);
    }
    String start = ex.query("start");
    List<String> steps = ex.queryAll("step");
    Manifest manifest;
    try {
      String defaultName =
          pipeline != null ? pipeline : givenSource != null ? defaultName(givenSource) : null;
      manifest = ManifestParser.parse(source, ex.bodyText(), defaultName);
    } catch (ManifestException e) {
      throw ApiException.badRequest("invalid manifest", problems(e.problems()));
    }
    checkFilters(manifest, start, steps);
    return new Submission(
        manifest, pipeline != null ? pipeline : manifest.name(), source, start, steps);
  }

  void submit(Exchange ex) {
    int parallel = ex.intQuery("parallel", 0, 0, 1_000_000);
    String requestId = requestId(ex);
    Submission s = submission(ex);
    Manifest manifest = s.manifest();
    String name = s.pipeline();
    var command =
        new SubmitRun(
            requestId,
            name,
            s.source(),
            manifest.text(),
            manifest.steps(),
            clock.millis(),
            s.start(),
            s.steps(),
            parallel);
    List<String> warnings = Lint.warnings(manifest).stream().map(Problem::toString).toList();
    awaitRules(command);
    propose(node.raft().propose(command))
        .whenComplete(
            (logged, error) -> {
              if (error != null) {
                ex.fail(error);
                return;
              }
              long run;
              try {
                run = submitted(logged.reply()).runId();
              } catch (ApiException refused) {
                ex.fail(refused);
                return;
              }
              // The reply may come from the leader's apply; answer once this node has applied
              // the entry too, so what the client asks this node next already knows the run.
              // Never a failure from here on: the run exists, and the client must hear so.
              barrier
                  .awaitApplied(logged.index())
                  .thenRun(
                      () ->
                          ex.json(
                              HttpResponseStatus.CREATED,
                              new Submitted(run, name, requestId, warnings)));
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

  /** Runs newest first; {@code ?pipeline=} and {@code ?state=} filter, {@code ?offset=} pages. */
  void list(Exchange ex) {
    int limit = ex.intQuery("limit", 50, 1, 10_000);
    int offset = ex.intQuery("offset", 0, 0, Integer.MAX_VALUE);
    String pipeline = ex.query("pipeline");
    if (pipeline != null && pipeline.isEmpty()) {
      pipeline = null;
    }
    RunState state = enumQuery(ex, "state", RunState.class);
    var out = new ArrayList<RunJson>();
    for (RunView run : node.queries().runs(pipeline, state, offset, limit)) {
      out.add(json(run, null));
    }
    ex.json(HttpResponseStatus.OK, out);
  }

  /** One step of a run's graph with its tasks' counts by state ({@code total} too). */
  record StepJson(String name, boolean gather, List<String> inputs, Map<String, Integer> tasks) {}

  /**
   * {@code from}'s outputs went into {@code to}: {@code input} names one, which {@code to}'s input
   * {@code pattern} matched.
   */
  record EdgeJson(String from, String to, String pattern, String input) {}

  record StepsJson(long run, String state, List<StepJson> steps, List<EdgeJson> edges) {}

  /**
   * {@code GET /v1/runs/{id}/steps}: the run's steps in manifest order, each with its tasks'
   * counts by state, and the edges between them as the run's tasks consumed resources. Counted by
   * the record, so it costs the same for ten tasks or ten thousand.
   */
  void steps(Exchange ex) {
    long id = ex.id("id");
    RunView run = node.queries().run(id).orElseThrow(() -> noRun(id));
    Map<String, Map<TaskState, Integer>> counts = node.queries().stepCounts(id);
    var declared = new LinkedHashMap<String, Step>();
    node.queries().runManifest(id).ifPresent(m -> declared.putAll(manifestSteps(m)));
    var steps = new ArrayList<StepJson>();
    for (Step step : declared.values()) {
      steps.add(
          new StepJson(
              step.name(), step.gather(), step.inputs(), countsJson(counts.get(step.name()))));
    }
    counts.forEach(
        (name, byState) -> {
          if (!declared.containsKey(name)) {
            steps.add(new StepJson(name, false, List.of(), countsJson(byState)));
          }
        });
    var edges = new ArrayList<EdgeJson>();
    for (var e : node.queries().stepEdges(id)) {
      Step consumer = declared.get(e.consumer());
      String pattern =
          consumer == null
              ? null
              : consumer.inputs().stream()
                  .filter(p -> NamePattern.matches(p, e.input()))
                  .findFirst()
                  .orElse(null);
      edges.add(new EdgeJson(e.producer(), e.consumer(), pattern, e.input()));
    }
    ex.json(HttpResponseStatus.OK, new StepsJson(id, run.state().name(), steps, edges));
  }

  /** The steps of the manifest a run was submitted with, by name; none if it no longer parses. */
  private static Map<String, Step> manifestSteps(RunManifest m) {
    var out = new LinkedHashMap<String, Step>();
    try {
      for (Step s : ManifestParser.parse(m.source(), m.text(), m.pipeline()).steps()) {
        out.put(s.name(), s);
      }
    } catch (ManifestException e) {
      // Accepted when submitted; a parser that changed since only costs the graph its patterns.
    }
    return out;
  }

  private static Map<String, Integer> countsJson(Map<TaskState, Integer> byState) {
    var out = new LinkedHashMap<String, Integer>();
    int total = 0;
    for (TaskState s : TaskState.values()) {
      int n = byState == null ? 0 : byState.getOrDefault(s, 0);
      out.put(s.name().toLowerCase(Locale.ROOT), n);
      total += n;
    }
    out.put("total", total);
    return out;
  }

  record TaskRowJson(
      long id,
      String step,
      String state,
      int attempt,
      String node,
      String inputName,
      String error,
      String startedAt,
      String finishedAt,
      Integer exitCode) {}

  record TaskPageJson(long run, int total, int offset, int limit, List<TaskRowJson> tasks) {}

  /**
   * {@code GET /v1/runs/{id}/tasks?state=&step=&offset=&limit=}: one page of the run's tasks by
   * id, with the total the filter matches; never the whole run at once (at most 1000 a page).
   */
  void tasks(Exchange ex) {
    long id = ex.id("id");
    TaskState state = enumQuery(ex, "state", TaskState.class);
    String step = ex.query("step");
    if (step != null && step.isEmpty()) {
      step = null;
    }
    int offset = ex.intQuery("offset", 0, 0, Integer.MAX_VALUE);
    int limit = ex.intQuery("limit", 50, 1, 1000);
    node.queries().run(id).orElseThrow(() -> noRun(id));
    TaskPage page = node.queries().runTasks(id, state, step, offset, limit);
    var rows = new ArrayList<TaskRowJson>();
    for (RunTask t : page.tasks()) {
      rows.add(
          new TaskRowJson(
              t.taskId(),
              t.step(),
              t.state().name(),
              t.attempt(),
              t.node(),
              t.inputName(),
              t.error(),
              Json.time(t.startedAt()),
              Json.time(t.finishedAt()),
              t.exitCode()));
    }
    ex.json(HttpResponseStatus.OK, new TaskPageJson(id, page.total(), offset, limit, rows));
  }

  /** A query parameter naming a constant of {@code type} in any case; absent or empty is null. */
  private static <E extends Enum<E>> E enumQuery(Exchange ex, String name, Class<E> type) {
    String raw = ex.query(name);
    if (raw == null || raw.isEmpty()) {
      return null;
    }
    try {
      return Enum.valueOf(type, raw.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      var allowed = new ArrayList<String>();
      for (E c : type.getEnumConstants()) {
        allowed.add(c.name().toLowerCase(Locale.ROOT));
      }
      throw ApiException.badRequest(
          "malformed " + name, name + " must be one of " + allowed + ": " + raw);
    }
  }

  /**
   * One run with its failed tasks; {@code ?summary=true} leaves the failed tasks out (the web UI
   * pages them instead: a large run may have thousands).
   */
  void get(Exchange ex) {
    long id = ex.id("id");
    RunView run = node.queries().run(id).orElseThrow(() -> noRun(id));
    if (ex.flag("summary")) {
      ex.json(HttpResponseStatus.OK, json(run, null));
      return;
    }
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

  /**
   * {@code POST /v1/plan} (manifest TOML body, {@code ?pipeline=&start=&step=} as for a
   * submission): what submitting it would do, from this member's record; proposes nothing.
   */
  void plan(Exchange ex) {
    Submission s = submission(ex);
    ex.json(
        HttpResponseStatus.OK,
        SubmissionPlan.of(node.queries(), s.manifest(), s.pipeline(), s.start(), s.steps()));
  }

  /**
   * Runs the run's failed and cancelled tasks again, or only {@code ?task=ID}: 200 with how many
   * are pending again and the run's state; 404 for no such run, 400 when the rules refuse (a run
   * a newer one superseded, a task that did not fail, a cluster on older rules).
   */
  void retry(Exchange ex) {
    long id = ex.id("id");
    long task = ex.intQuery("task", 0, 1, Integer.MAX_VALUE);
    node.queries().run(id).orElseThrow(() -> noRun(id));
    try {
      node.awaitRules(RulesVersion.RETRY, RULES_WAIT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.unavailable("interrupted", null);
    }
    propose(node.raft().propose(new RetryTasks(id, task, clock.millis())))
        .whenComplete(
            (logged, error) -> {
              if (error != null) {
                ex.fail(error);
              } else if (logged.reply() instanceof NoSuchRun) {
                ex.fail(noRun(id));
              } else if (logged.reply() instanceof RetryRefused refused) {
                ex.fail(ApiException.badRequest("retry refused", refused.reason()));
              } else if (logged.reply() instanceof TasksRetried retried) {
                barrier
                    .awaitApplied(logged.index())
                    .thenRun(
                        () -> {
                          var body = new LinkedHashMap<String, Object>();
                          body.put("run", id);
                          body.put("retried", retried.tasks());
                          body.put(
                              "state",
                              node.queries().run(id).map(r -> r.state().name()).orElse(null));
                          ex.json(HttpResponseStatus.OK, body);
                        });
              } else {
                ex.fail(new IllegalStateException("a retry was answered with " + logged.reply()));
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
    return problems.stream().map(Problem::fields).toList();
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
