package dev.grit.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
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
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return parse(response);
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            })
        .get(30, TimeUnit.SECONDS);
  }

  private static List<Event> parse(HttpResponse<Stream<String>> response) throws Exception {
    var events = new ArrayList<Event>();
    String type = null;
    var data = new StringBuilder();
    for (String line : (Iterable<String>) response.body()::iterator) {
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
