package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.engine.object.Digest;
import dev.grit.node.testing.NodeCluster;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API of a follower in a three-node cluster: writes reach the leader through Raft, events and
 * reads come from the follower's own replica, and the cluster view shows every member.
 */
class ApiOnFollowerTest {
  @TempDir Path dir;

  NodeCluster cluster;

  HttpResponse<String> send(String base, String method, String path, String body) throws Exception {
    return cluster.http().send(
        cluster.request(base + path)
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aFollowerServesWritesEventsReadsAndTheClusterView() throws Exception {
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      this.cluster = cluster;
      var http = cluster.http();
      int leader = cluster.leader();
      int follower = cluster.follower();
      try (var followerApi =
              ApiServer.start(cluster.node(follower), new InetSocketAddress("127.0.0.1", 0));
          var leaderApi =
              ApiServer.start(cluster.node(leader), new InetSocketAddress("127.0.0.1", 0))) {
        String base = "https://127.0.0.1:" + followerApi.port();
        var submitted =
            send(
                base,
                "POST",
                "/v1/runs?pipeline=spread",
                """
                [[step]]
                name = "make"
                script = "echo one > $OUTPUT_DIR/a; echo two > $OUTPUT_DIR/b"
                [[step]]
                name = "use"
                inputs = ["a", "b"]
                script = "tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/upper-$GRIT_INPUT_NAME"
                """);
        assertEquals(201, submitted.statusCode(), submitted.body());
        long run = TestServer.json(submitted).get("run").asLong();
        // The follower answered once it had applied the run itself: a plain read finds it.
        var known = send(base, "GET", "/v1/runs/" + run, "");
        assertEquals(200, known.statusCode(), known.body());

        var stream =
            http.sendAsync(
                    cluster.request(base + "/v1/runs/" + run + "/events").build(),
                    HttpResponse.BodyHandlers.ofLines())
                .get(10, TimeUnit.SECONDS);
        var events = SseEvents.read(stream);
        var end = events.get(events.size() - 1);
        assertEquals("RunEnded", end.type(), events.toString());
        assertEquals("SUCCEEDED", end.data().get("state").asText(), events.toString());

        JsonNode view =
            TestServer.json(send(base, "GET", "/v1/runs/" + run + "?consistent=true", ""));
        assertEquals("SUCCEEDED", view.get("state").asText());
        assertEquals(3, view.get("tasks").get("succeeded").asInt(), view.toString());
        JsonNode upper =
            TestServer.json(send(base, "GET", "/v1/pipelines/spread/resources?name=upper-a", ""))
                .get(0);
        var bytes =
            http.send(
                cluster.request(base + "/v1/objects/" + upper.get("hash").asText()).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, bytes.statusCode());
        assertEquals("ONE\n", new String(bytes.body()));
        assertEquals(upper.get("hash").asText(), Digest.of(bytes.body()).toString());

        JsonNode status = TestServer.json(send(base, "GET", "/v1/cluster", ""));
        assertEquals(cluster.id(follower), status.get("self").asText());
        // On a loaded machine leadership may have moved since the test began: a member leads.
        assertTrue(
            List.of(cluster.id(0), cluster.id(1), cluster.id(2)).contains(status.get("leader").asText()),
            status.toString());
        assertEquals(3, status.get("members").size());
        assertEquals(200, send(base, "GET", "/readyz", "").statusCode());

        // The client table: both servers answer for themselves, the third member as they know it.
        var grit = cluster.grit(dir);
        var table =
            grit.run(
                "cluster", "status", "--server", base + ",https://127.0.0.1:" + leaderApi.port());
        assertEquals(0, table.exit(), table::toString);
        List<String> lines = table.out().lines().toList();
        assertEquals(4, lines.size(), table::toString);
        // Both servers report themselves: term, commit and applied index, live.
        for (int i : new int[] {follower, leader}) {
          String row =
              lines.stream().filter(l -> l.startsWith(cluster.id(i) + " ")).findFirst().orElseThrow();
          assertTrue(row.matches(".* (yes|no) +\\d+ +\\d+ +\\d+ +yes"), table::toString);
        }
        assertTrue(lines.stream().anyMatch(l -> l.matches(".* yes +\\d+ +\\d+ +\\d+ +yes")), table::toString);
      }
    }
  }
}
