package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
 * silent past three heartbeats) the run is read again and the stream reopened on whichever server
 * answers. Every stream starts with the run's history, so a line is printed once per attempt,
 * however late the watcher connected and however often it reconnected.
 */
final class RunWatcher {
  /** The server sends a heartbeat every 10 s: this much silence means the connection is dead. */
  private static final long SILENCE_MILLIS = 35_000;

  private static final int MAX_RECONNECTS = 20;

  private final ApiClient client;
  private final PrintStream out;
  private final boolean progress;
  private final Set<String> printed = new HashSet<>();

  RunWatcher(ApiClient client, PrintStream out, boolean progress) {
    this.client = client;
    this.out = out;
    this.progress = progress;
  }

  /** Returns the run's final view once it ended. */
  JsonNode follow(long runId) throws ClientException {
    String path = "/v1/runs/" + runId;
    for (int reconnects = 0; ; reconnects++) {
      var response = client.stream(path + "/events", HttpResponse.BodyHandlers.ofPublisher());
      boolean ended;
      try (var stream = EventStream.of(response)) {
        if (response.statusCode() != 200) {
          ApiClient.check(errorOf(response, stream));
        }
        ended = read(stream);
      }
      JsonNode run = client.getJson(path);
      if (ended || !run.path("state").asText().equals(RunState.RUNNING.name())) {
        return run;
      }
      if (reconnects == MAX_RECONNECTS) {
        throw new ClientException(
            Main.UNREACHABLE,
            "lost the event stream of run " + runId + " " + reconnects + " times");
      }
      pause();
    }
  }

  /** Prints the stream's events; true when it delivered the run's end. */
  private boolean read(EventStream stream) throws ClientException {
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
          if (type != null && handle(type, data.toString())) {
            return true;
          }
          type = null;
          data.setLength(0);
        }
      }
    } catch (EventStream.SilenceException | IOException e) {
      // The connection broke or went silent: the caller reads the run and reconnects.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientException(Main.FAILED, "interrupted");
    }
    return false;
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

  /** Prints one event; true for the run's end. */
  private boolean handle(String type, String data) {
    JsonNode e;
    try {
      e = ApiClient.JSON.readTree(data);
    } catch (IOException ex) {
      return false;
    }
    if (type.startsWith("Attempt")
        && !printed.add(e.path("task_id").asLong() + "/" + e.path("attempt").asInt())) {
      return false;
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
        return true;
      }
      default -> {
        // other events are not part of the progress lines
      }
    }
    out.flush();
    return false;
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
