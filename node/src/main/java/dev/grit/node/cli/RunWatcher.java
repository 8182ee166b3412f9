package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.TaskState;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Follows a run through the API's event stream until it ends, printing a progress line per ended or
 * lost attempt (as {@code grit run} does). When the stream breaks (its server went away, or stayed
 * silent past three heartbeats), or every server is at its limit of event streams, the run is read
 * again and the stream reopened on whichever server answers. A server drops a watcher that fell too
 * far behind (event {@code Dropped}); the watcher then reconnects at once. Every stream starts with
 * the run's history, so a line is printed once per attempt, however late the watcher connected and
 * however often it reconnected. With {@code -o json|jsonl} the same attempts are printed as records
 * instead: each event's JSON with its type as {@code event}.
 */
final class RunWatcher {
  /** The server sends a heartbeat every 10 s: this much silence means the connection is dead. */
  private static final long SILENCE_MILLIS = 35_000;

  private static final int MAX_RECONNECTS = 20;

  /** How one event stream ended. */
  private enum StreamEnd {
    RUN_ENDED,
    DROPPED,
    BROKEN
  }

  private final ApiClient client;
  private final PrintStream out;
  private final boolean progress;
  /** Prints each attempt's event as a record instead of a progress line, when not null. */
  private final OutputOption records;
  private final Set<String> printed = new HashSet<>();
  private String lastProblem = "the connection broke";

  RunWatcher(ApiClient client, PrintStream out, boolean progress) {
    this.client = client;
    this.out = out;
    this.progress = progress;
    this.records = null;
  }

  /** Prints each ended or lost attempt as a record in {@code records}' JSON form. */
  RunWatcher(ApiClient client, PrintStream out, OutputOption records) {
    this.client = client;
    this.out = out;
    this.progress = false;
    this.records = records;
  }

  /** Returns the run's final view once it ended. */
  JsonNode follow(long runId) throws ClientException {
    String path = "/v1/runs/" + runId;
    boolean lastLook = false;
    for (int failures = 0; ; ) {
      int printedBefore = printed.size();
      var response = client.stream(path + "/events", HttpResponse.BodyHandlers.ofPublisher());
      StreamEnd end;
      try (var stream = EventStream.of(response)) {
        if (response.statusCode() == 503) {
          // No server would stream now (each at its limit of streams, or without a quorum).
          lastProblem = ApiClient.describe(errorOf(response, stream));
          end = StreamEnd.BROKEN;
        } else {
          if (response.statusCode() != 200) {
            ApiClient.check(errorOf(response, stream));
          }
          end = read(stream);
        }
      }
      JsonNode run = client.getJson(path);
      if (end == StreamEnd.RUN_ENDED || (lastLook && !isRunning(run))) {
        return run;
      }
      if (!isRunning(run)) {
        // It ended while this stream was cut short: one more stream tells the attempts this one
        // did not (the history of an ended run comes at once, then its end).
        lastLook = true;
        continue;
      }
      if (end == StreamEnd.DROPPED && printed.size() > printedBefore) {
        continue; // it fell behind while catching up: the next stream's history fills the gap
      }
      if (++failures > MAX_RECONNECTS) {
        throw new ClientException(
            Main.UNREACHABLE,
            "lost the event stream of run "
                + runId
                + " "
                + MAX_RECONNECTS
                + " times (last: "
                + lastProblem
                + ")");
      }
      pause();
    }
  }

  private static boolean isRunning(JsonNode run) {
    return run.path("state").asText().equals(RunState.RUNNING.name());
  }

  /** Prints the stream's events until it ends. */
  private StreamEnd read(EventStream stream) throws ClientException {
    String type = null;
    var data = new StringBuilder();
    try {
      String line;
      while ((line = stream.nextLine(SILENCE_MILLIS)) != null) {
        if (line.startsWith("event:")) {
          type = line.substring(6).trim();
        } else if (line.startsWith("data:")) {
          data.append(line.substring(5).trim());
        } else if (line.isEmpty()) {
          StreamEnd end = type == null ? null : handle(type, data.toString());
          if (end != null) {
            return end;
          }
          type = null;
          data.setLength(0);
        }
      }
      lastProblem = "the server closed the stream";
    } catch (EventStream.SilenceException | IOException e) {
      // The connection broke or went silent: the caller reads the run and reconnects.
      lastProblem = e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientException(Main.FAILED, "interrupted");
    }
    return StreamEnd.BROKEN;
  }

  /** An error answer's body, read from the stream (it is short, and the server closes it). */
  private static ApiClient.Response errorOf(HttpResponse<?> response, EventStream stream) {
    var body = new StringBuilder();
    try {
      String line;
      while ((line = stream.nextLine(5_000)) != null) {
        body.append(line).append('\n');
      }
    } catch (Exception e) {
      // what arrived is enough to describe the error
    }
    return new ApiClient.Response(
        response.statusCode(), body.toString().getBytes(StandardCharsets.UTF_8), response.uri());
  }

  /** Prints one event; how the stream ended when the event ends it, else null. */
  private StreamEnd handle(String type, String data) {
    JsonNode e;
    try {
      e = ApiClient.JSON.readTree(data);
    } catch (IOException ex) {
      return null;
    }
    if (type.startsWith("Attempt")
        && !printed.add(e.path("task_id").asLong() + "/" + e.path("attempt").asInt())) {
      return null;
    }
    if (records != null && (type.equals("AttemptEnded") || type.equals("AttemptLost"))) {
      ObjectNode record = ApiClient.JSON.createObjectNode().put("event", type);
      if (e instanceof ObjectNode fields) {
        record.setAll(fields);
      }
      records.printRecord(record, out);
      return null;
    }
    switch (type) {
      case "AttemptEnded" -> {
        if (progress) {
          String state = e.path("task_state").asText();
          out.println(
              ProgressLines.ended(
                  e.path("step").asText(),
                  e.path("task_id").asLong(),
                  e.path("input_name").isTextual() ? e.path("input_name").asText() : null,
                  state.equals(TaskState.SUCCEEDED.name()),
                  state.equals(TaskState.PENDING.name()),
                  e.path("attempt").asInt(),
                  e.path("error").asText(null),
                  e.path("duration_millis").asLong(),
                  strings(e.path("outputs"))));
        }
      }
      case "AttemptLost" -> {
        if (progress) {
          out.println(
              ProgressLines.lost(
                  e.path("task_id").asLong(),
                  e.path("attempt").asInt(),
                  e.path("reason").asText()));
        }
      }
      case "RunEnded" -> {
        return StreamEnd.RUN_ENDED;
      }
      case "Dropped" -> {
        lastProblem = "dropped: " + e.path("reason").asText();
        return StreamEnd.DROPPED;
      }
      default -> {
        // other events are not part of the progress lines
      }
    }
    out.flush();
    return null;
  }

  /**
   * Follows the run to its end, prints that as a record in {@code output}'s JSON form (after each
   * ended or lost attempt's, with {@code attempts}), and returns the exit code for how it ended.
   */
  static int followAsRecords(
      ApiClient client,
      long run,
      OutputOption output,
      boolean attempts,
      PrintStream out,
      PrintStream err)
      throws ClientException {
    var watcher =
        attempts ? new RunWatcher(client, out, output) : new RunWatcher(client, out, false);
    JsonNode end = watcher.follow(run);
    output.printRecord(end, out);
    return summarize(end, false, out, err);
  }

  /**
   * Prints the run's closing line (with {@code progress}) and its failed tasks (to {@code err});
   * returns the exit code for how it ended.
   */
  static int summarize(JsonNode run, boolean progress, PrintStream out, PrintStream err) {
    String state = run.path("state").asText();
    if (progress) {
      long elapsed = 0;
      if (run.path("finished_at").isTextual()) {
        elapsed =
            Instant.parse(run.path("finished_at").asText()).toEpochMilli()
                - Instant.parse(run.path("submitted_at").asText()).toEpochMilli();
      }
      out.println(
          ProgressLines.summary(
              run.path("id").asLong(),
              state,
              run.path("tasks").path("succeeded").asInt(),
              run.path("tasks").path("failed").asInt(),
              elapsed));
      out.flush();
    }
    if (run.path("reason").isTextual()) {
      err.println("grit: " + run.path("reason").asText());
    }
    for (JsonNode t : run.path("failed")) {
      err.println(
          ProgressLines.failedTask(
              t.path("step").asText(),
              t.path("task").asLong(),
              t.path("input_name").isTextual() ? t.path("input_name").asText() : null,
              t.path("attempts").asInt(),
              t.path("error").asText(null)));
    }
    return state.equals(RunState.SUCCEEDED.name()) ? Main.OK : Main.FAILED;
  }

  private static List<String> strings(JsonNode array) {
    var out = new ArrayList<String>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  private static void pause() throws ClientException {
    try {
      Thread.sleep(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientException(Main.FAILED, "interrupted");
    }
  }
}
