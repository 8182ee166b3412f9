package dev.grit.node.api;

import dev.grit.node.LogPrinter;
import dev.grit.consensus.state.StateQueries.AttemptInfo;
import dev.grit.consensus.state.StateQueries.TaskSpec;
import dev.grit.engine.object.Digest;
import dev.grit.node.Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** {@code /v1/tasks/{id}} and its log: what {@code grit logs} shows, from any member. */
final class TasksResource {
  private final Node node;
  private final LogPrinter logs;

  TasksResource(Node node) {
    this.node = node;
    this.logs = new LogPrinter(node::queries, node.chunks());
  }

  record Input(String name, Digest hash) {}

  /** One of the task's inputs: every member of a gather task's set, in the order it sees them. */
  record InputJson(long resource, String name, Digest hash, long size) {}

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
      List<Attempt> attempts) {}

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
            attempts));
  }

  /** Plain text, as {@code grit logs} prints it; bounded, since each stored tail is. */
  void log(Exchange ex) {
    long id = ex.id("id");
    node.queries().task(id).orElseThrow(() -> noTask(id));
    var bytes = new ByteArrayOutputStream();
    try (var out = new PrintStream(bytes, false, StandardCharsets.UTF_8)) {
      logs.printAll(id, out);
    } catch (IOException e) {
      throw ApiException.unavailable("log not readable here", e.getMessage());
    }
    ex.send(HttpResponseStatus.OK, bytes.toByteArray(), "text/plain; charset=utf-8");
  }

  private static ApiException noTask(long id) {
    return ApiException.notFound("no such task", "task " + id);
  }
}
