package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.api.TestServer;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.Grit.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit retry}, {@code grit logs -f}, {@code grit plan} and {@code -o jsonl}, run as a user
 * runs them (child JVMs) against a real node's API in this process, and against a data directory.
 */
class OperabilityCommandsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static TestServer server;
  static Grit grit;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer(dir.resolve("node"));
    grit = server.grit(dir);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static Result run(int exit, String... args) throws Exception {
    Result r = grit.run(args);
    assertEquals(exit, r.exit(), () -> String.join(" ", args) + "\n" + r);
    return r;
  }

  /** Two inputs; {@code work} fails on each until {@code marker} exists. */
  static String gated(Path marker) {
    return """
        [[step]]
        name = "split"
        script = "echo a > $OUTPUT_DIR/part_1; echo b > $OUTPUT_DIR/part_2"

        [[step]]
        name = "work"
        inputs = ["part_*"]
        script = '''
        if [ ! -f %s ]; then echo "no marker yet"; exit 1; fi
        echo "working on $GRIT_INPUT_NAME"
        tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/done_$GRIT_INPUT_NAME
        '''
        """
        .formatted(marker);
  }

  static Path manifest(String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  static List<Long> failedTasks(long run) throws Exception {
    var out = new java.util.ArrayList<Long>();
    for (JsonNode f : TestServer.json(server.get("/v1/runs/" + run)).path("failed")) {
      out.add(f.path("task").asLong());
    }
    return out;
  }

  @Test
  void retryRunsAFailedRunsFailedTasksAgainAndLogsShowEveryAttempt() throws Exception {
    Path marker = dir.resolve("retry.marker");
    Path m = manifest("retried.toml", gated(marker));
    String url = server.url();
    Result failed = run(1, "submit", m.toString(), "--wait", "--server", url);
    long runId = Long.parseLong(failed.out().strip());
    List<Long> tasks = failedTasks(runId);
    assertEquals(2, tasks.size(), failed::toString);

    Files.writeString(marker, "");
    Result retried = run(0, "retry", String.valueOf(runId), "--server", url);
    assertEquals(
        "run " + runId + ": 2 tasks retried, run running (grit watch " + runId + ")",
        retried.out().strip());
    assertEquals("SUCCEEDED", server.awaitEnd(runId, Duration.ofSeconds(60)).path("state").asText());
    assertEquals(
        "run " + runId + ": nothing to retry (succeeded)",
        run(0, "retry", "@latest", "--server", url).out().strip());

    // Every attempt of a task, the failed one first; -f ends at once for an ended task, exit 0.
    Result logs = run(0, "logs", String.valueOf(tasks.get(0)), "-f", "--server", url);
    String out = logs.out();
    assertTrue(out.startsWith("== attempt 1 on local: failed (exit status 1)\nno marker yet\n"), out);
    assertTrue(out.contains("== attempt 2 on local: succeeded\nworking on part_"), out);
  }

  @Test
  void retryOfOneTaskAndTheRefusals() throws Exception {
    Path marker = dir.resolve("task.marker");
    Path m = manifest("one.toml", gated(marker));
    String url = server.url();
    long runId = Long.parseLong(run(1, "submit", m.toString(), "--wait", "--server", url).out().strip());
    List<Long> tasks = failedTasks(runId);
    Files.writeString(marker, "");

    JsonNode reply =
        JSON.readTree(
            run(0, "retry", "--task", String.valueOf(tasks.get(1)), "-o", "json", "--server", url)
                .out());
    assertEquals(runId, reply.path("run").asLong());
    assertEquals(1, reply.path("retried").asInt());
    assertEquals("RUNNING", reply.path("state").asText());
    JsonNode end = server.awaitEnd(runId, Duration.ofSeconds(60));
    assertEquals("FAILED", end.path("state").asText(), "the other task still failed");
    assertEquals(List.of(tasks.get(0)), failedTasks(runId));

    // A task that did not fail, and a run a newer one superseded: 400, exit 2, nothing retried.
    Result notFailed =
        run(2, "retry", "--task", String.valueOf(tasks.get(1)), "--server", url);
    assertTrue(notFailed.err().contains("is not a failed or cancelled task"), notFailed::toString);
    long newer = Long.parseLong(run(0, "submit", m.toString(), "--wait", "--server", url).out().strip());
    Result superseded = run(2, "retry", String.valueOf(runId), "--server", url);
    assertTrue(superseded.err().contains("retry run " + newer), superseded::toString);
    run(1, "retry", "999999", "--server", url);
  }

  @Test
  void logsFollowsARunningTaskUntilItEndsFromAServerAndFromTheDataDirectory() throws Exception {
    Path go = dir.resolve("go");
    String manifest =
        """
        [[step]]
        name = "slow"
        script = '''
        echo "started"
        while [ ! -f %s ]; do sleep 0.05; done
        echo "finished"
        exit 3
        '''
        """
            .formatted(go);
    long runId = server.submit("followed", manifest);
    Wait.until(
        "the task to run",
        Duration.ofSeconds(30),
        () -> {
          try {
            JsonNode t = TestServer.json(server.get("/v1/tasks/1"));
            return t.path("state").asText().equals("ASSIGNED");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
    long task = taskOf(runId);
    Path remoteOut = dir.resolve("follow-remote.out");
    Path localOut = dir.resolve("follow-local.out");
    Process remote =
        grit.start(
            remoteOut,
            dir.resolve("follow-remote.err"),
            "logs",
            String.valueOf(task),
            "-f",
            "--server",
            server.url());
    Process local =
        grit.start(
            localOut,
            dir.resolve("follow-local.err"),
            "logs",
            String.valueOf(task),
            "--follow",
            "--db",
            dir.resolve("node").toString());
    // From the server, the running attempt's output as it comes: "started" before the gate.
    Wait.until(
        "grit logs -f --server to show what the running attempt printed",
        Duration.ofSeconds(60),
        () -> read(remoteOut).equals("== attempt 1 on local: running\nstarted\n"));
    // A data directory cannot read it: only the header until the attempt ends.
    Wait.until(
        "grit logs -f --db to show the running attempt",
        Duration.ofSeconds(60),
        () -> read(localOut).contains("== attempt 1 on local: running"));
    assertTrue(remote.isAlive() && local.isAlive(), "both follow the running attempt");

    // The API a follower polls: bytes from an offset, the next offset, whether more may come.
    var part = server.get("/v1/tasks/" + task + "/log?attempt=1&from=0");
    assertEquals(200, part.statusCode(), part.body());
    assertEquals("started\n", part.body());
    assertEquals("8", part.headers().firstValue("Grit-Log-Offset").orElseThrow());
    assertEquals("true", part.headers().firstValue("Grit-Log-Running").orElseThrow());
    var rest = server.get("/v1/tasks/" + task + "/log?attempt=1&from=3");
    assertEquals("rted\n", rest.body());
    assertEquals(400, server.get("/v1/tasks/" + task + "/log?attempt=1&from=-1").statusCode());
    assertEquals(400, server.get("/v1/tasks/" + task + "/log?from=0").statusCode());
    // The route members ask each other: a member certificate, not a token, opens it.
    String internal = "/v1/attempts/" + task + "/1/live?from=0";
    var asMember = server.getAsMember(internal);
    assertEquals(200, asMember.statusCode(), asMember.body());
    assertEquals("started\n", asMember.body());
    var asAdmin = server.get(internal);
    assertEquals(403, asAdmin.statusCode(), asAdmin.body());
    assertTrue(asAdmin.body().contains("\"error\""), asAdmin.body());
    var anonymous =
        server.send(java.net.http.HttpRequest.newBuilder(server.uri(internal)).build());
    assertEquals(401, anonymous.statusCode(), anonymous.body());
    assertEquals(404, server.getAsMember("/v1/attempts/" + task + "/2/live?from=0").statusCode());

    Files.writeString(go, "");
    for (Process p : List.of(remote, local)) {
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      assertEquals(1, p.exitValue(), "the task failed: exit 1");
    }
    assertEquals("== attempt 1 on local: running\nstarted\nfinished\n", read(remoteOut));
    assertEquals(
        "== attempt 1 on local: running\n"
            + "== attempt 1 on local: failed (exit status 3)\nstarted\nfinished\n",
        read(localOut));
    // Once ended, the stored log from an offset.
    var stored = server.get("/v1/tasks/" + task + "/log?attempt=1&from=8");
    assertEquals("finished\n", stored.body());
    assertEquals("false", stored.headers().firstValue("Grit-Log-Running").orElseThrow());
  }

  private static long taskOf(long runId) throws Exception {
    for (long id = 1; id < 1000; id++) {
      var r = server.get("/v1/tasks/" + id);
      if (r.statusCode() == 200 && TestServer.json(r).path("run").asLong() == runId) {
        return id;
      }
    }
    throw new AssertionError("no task of run " + runId);
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static final String PLANNED =
      """
      [[step]]
      name = "start"
      script = "echo one > $OUTPUT_DIR/data_1; echo two > $OUTPUT_DIR/data_2"

      [[step]]
      name = "process"
      inputs = ["data_*"]
      script = "tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/up_$GRIT_INPUT_NAME"

      [[step]]
      name = "report"
      inputs = ["up_*"]
      script = "wc -c < $INPUT_FILE > $OUTPUT_DIR/size_$GRIT_INPUT_NAME"
      """;

  @Test
  void planSaysWhatASubmissionWouldDoAndProposesNothing() throws Exception {
    String url = server.url();
    Path m = manifest("planned.toml", PLANNED);
    JsonNode fresh = JSON.readTree(run(0, "plan", m.toString(), "-o", "json", "--server", url).out());
    assertEquals("new_step", fresh.path("steps").get(0).path("change").asText());
    assertEquals(1, fresh.path("tasks_created").asInt(), "the seed task");
    assertEquals(0, TestServer.json(server.get("/v1/runs?limit=100")).findValues("pipeline").stream()
        .filter(p -> p.asText().equals("planned")).count(), "plan proposes nothing");

    run(0, "submit", m.toString(), "--wait", "--server", url);
    Result same = run(0, "plan", m.toString(), "--server", url);
    assertTrue(same.out().startsWith("STEP"), same::toString);
    assertTrue(
        same.out().lines().anyMatch(l -> l.matches("start +v1 +unchanged +0 +cut off: version unchanged.*")),
        same::toString);
    assertTrue(
        same.out().lines().anyMatch(l -> l.matches("process +v1 +unchanged +0 +cut off: inputs unchanged \\(2 tasks exist\\)")),
        same::toString);
    assertTrue(same.out().contains("pipeline planned: 0 tasks at submission; nothing was submitted"), same::toString);

    // The process step edited: a new version of it, its two tasks again, report may follow.
    Path edited = manifest("planned2.toml", PLANNED.replace("tr a-z A-Z", "tr a-z A-Z | rev"));
    JsonNode plan = JSON.readTree(
            run(0, "plan", edited.toString(), "--pipeline", "planned", "-o", "json", "--server", url)
                .out());
    JsonNode process = plan.path("steps").get(1);
    assertEquals("new_version", process.path("change").asText());
    assertEquals(2, process.path("version").asInt());
    assertEquals("[\"script\"]", process.path("changed").toString());
    assertEquals(2, process.path("tasks_created").asInt());
    JsonNode report = plan.path("steps").get(2);
    assertEquals(0, report.path("tasks_created").asInt());
    assertEquals("more as process publish", report.path("why").asText());

    // jsonl: one compact record per line.
    String lines = run(0, "list", "-o", "jsonl", "--no-color", "--server", url).out();
    for (String line : lines.strip().split("\n")) {
      assertTrue(JSON.readTree(line).has("id"), line);
    }
    assertFalse(lines.contains("\n  "), "compact lines");
    var env = new HashMap<>(server.secrets.clientEnv());
    env.put("NO_COLOR", "1");
    Result bad = new Grit(dir, env).run("list", "-o", "yaml", "--server", url);
    assertEquals(2, bad.exit(), bad::toString);
    assertTrue(bad.err().contains("expected table, json or jsonl"), bad::toString);
  }

  @Test
  void planReadsADataDirectoryOrNoneAtAll() throws Exception {
    Path db = dir.resolve("plan-db");
    Path m = manifest("local.toml", PLANNED);
    Result none = run(0, "plan", m.toString(), "--db", db.toString());
    assertTrue(none.out().contains("pipeline local: 1 task at submission"), none::toString);
    assertFalse(Files.exists(db.resolve("state.db")), "plan writes nothing");
    run(0, "run", m.toString(), "--db", db.toString(), "--quiet");
    Result again = run(0, "plan", m.toString(), "--db", db.toString(), "-o", "jsonl");
    JsonNode plan = JSON.readTree(again.out());
    assertEquals(0, plan.path("tasks_created").asInt(), again::toString);
  }
}
