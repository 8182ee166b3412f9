package dev.grit.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Reads a server-sent event stream of the API in tests. */
final class SseEvents {
  private SseEvents() {}

  /** One event: its type and its JSON data. */
  record Event(String type, JsonNode data) {}

  /** Reads the whole stream: the server must close it within 30 seconds. */
  static List<Event> read(HttpResponse<Stream<String>> response) throws Exception {
    return read(response, Duration.ofSeconds(30));
  }

  /** Reads the whole stream: the server must close it within {@code limit}. */
  static List<Event> read(HttpResponse<Stream<String>> response, Duration limit) throws Exception {
    return readAsync(response).get(limit.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Starts reading the whole stream on a thread of its own, at once: the client keeps up. */
  static CompletableFuture<List<Event>> readAsync(HttpResponse<Stream<String>> response) {
    var events = new CompletableFuture<List<Event>>();
    var reader =
        new Thread(
            () -> {
              try {
                events.complete(parse(response.body().iterator()));
              } catch (Throwable t) {
                events.completeExceptionally(t);
              }
            },
            "event-stream-reader");
    reader.setDaemon(true);
    reader.start();
    return events;
  }

  /** The events in the text of a stream. */
  static List<Event> parse(String text) throws Exception {
    return parse(List.of(text.split("\n", -1)).iterator());
  }

  private static List<Event> parse(Iterator<String> lines) throws Exception {
    var events = new ArrayList<Event>();
    String type = null;
    var data = new StringBuilder();
    while (lines.hasNext()) {
      String line = lines.next();
      if (line.startsWith("event: ")) {
        type = line.substring(7);
      } else if (line.startsWith("data: ")) {
        data.append(line.substring(6));
      } else if (line.isEmpty() && type != null) {
        events.add(new Event(type, TestServer.JSON.readTree(data.toString())));
        type = null;
        data.setLength(0);
      }
    }
    return events;
  }
}
