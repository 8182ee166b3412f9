package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.NodeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit cancel} on one member stops the run's scripts on every member: each applies the
 * cancellation and kills the attempts it runs, and the attempts still queued never start.
 */
@Tag("slow")
class CancelEverywhereTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int SLEEPERS = 6;

  @TempDir Path dir;
  private NodeCluster cluster;

  @Test
  void cancellingThroughOneMemberKillsTheScriptsOfEveryMember() throws Exception {
    Path pids = Files.createDirectories(dir.resolve("pids"));
    String manifest =
        """
        [[step]]
        name = "make"
        script = "for i in $(seq 1 %d); do echo $i > $OUTPUT_DIR/item_$i; done"

        [[step]]
        name = "sleep"
        inputs = ["item_*"]
        script = '''
        sleep 60 &
        echo "$$ $!" > %s/$GRIT_TASK_ID.tmp
        mv %s/$GRIT_TASK_ID.tmp %s/$GRIT_TASK_ID
        wait
        '''
        """
            .formatted(SLEEPERS, pids, pids, pids);
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      this.cluster = cluster;
      int leader = cluster.leader();
      int submitTo = (leader + 1) % 3;
      int cancelThrough = (leader + 2) % 3;
      long run = submit(cluster.url(submitTo), manifest);

      // Followers only take work: two slots each, so both run scripts and hold one more queued.
      Map<Long, String> nodeOf = new TreeMap<>();
      Wait.until(
          "scripts to run on two members",
          Duration.ofSeconds(60),
          () -> {
            for (long task : started(pids)) {
              cluster.node(leader).queries().task(task).ifPresent(t -> nodeOf.put(task, t.node()));
            }
            return nodeOf.size() >= 4 && new TreeSet<>(nodeOf.values()).size() >= 2;
          },
          () -> "started: " + nodeOf + "\n" + cluster.describe());
      var running = new TreeSet<Long>();
      for (long task : nodeOf.keySet()) {
        for (long pid : pidsOf(pids, task)) {
          assertTrue(alive(pid), "the script of task " + task + " should still run");
          running.add(pid);
        }
      }

      var grit = cluster.grit(dir);
      var cancelled = grit.run("cancel", Long.toString(run), "--server", cluster.url(cancelThrough));
      assertEquals(0, cancelled.exit(), cancelled::toString);
      assertEquals("run " + run + " cancelled", cancelled.out().trim());

      for (int i = 0; i < cluster.size(); i++) {
        var node = cluster.node(i);
        Wait.until(
            cluster.id(i) + " to apply the cancellation",
            Duration.ofSeconds(30),
            () -> node.queries().run(run).map(r -> r.state() == RunState.CANCELLED).orElse(false));
      }
      Wait.until(
          "every script of the run to be killed",
          Duration.ofSeconds(15),
          () -> running.stream().noneMatch(CancelEverywhereTest::alive),
          () -> "still alive: " + running.stream().filter(CancelEverywhereTest::alive).toList());

      for (int i = 0; i < cluster.size(); i++) {
        JsonNode view = JSON.readTree(get(cluster.url(i) + "/v1/runs/" + run));
        String who = cluster.id(i) + ": " + view;
        assertEquals("CANCELLED", view.path("state").asText(), who);
        JsonNode tasks = view.path("tasks");
        assertEquals(0, tasks.path("pending").asInt(), who);
        assertEquals(0, tasks.path("assigned").asInt(), who);
        assertEquals(1, tasks.path("succeeded").asInt(), who);
        assertEquals(SLEEPERS, tasks.path("cancelled").asInt(), who);
        for (long task : nodeOf.keySet()) {
          var spec = cluster.node(i).queries().task(task).orElseThrow();
          assertEquals(TaskState.CANCELLED, spec.state(), who);
          var attempts = cluster.node(i).queries().attempts(task);
          assertEquals(AttemptOutcome.CANCELLED, attempts.get(attempts.size() - 1).outcome(), who);
        }
      }
      // The attempts queued behind the killed ones were dropped when their slots freed up, not
      // started: every script that ever ran is one of those running at the cancellation.
      assertEquals(nodeOf.keySet(), started(pids));
      cluster.fatal.assertNone();
    }
  }

  private long submit(String url, String manifest) throws Exception {
    var response =
        cluster.http().send(
            cluster.request(url + "/v1/runs?pipeline=sleepy")
                .POST(HttpRequest.BodyPublishers.ofString(manifest))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, response.statusCode(), response.body());
    return JSON.readTree(response.body()).path("run").asLong();
  }

  private String get(String url) throws Exception {
    var response =
        cluster.http().send(cluster.request(url).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), response.body());
    return response.body();
  }

  /** The tasks whose script has written its process ids. */
  private static TreeSet<Long> started(Path pids) {
    var tasks = new TreeSet<Long>();
    try (Stream<Path> files = Files.list(pids)) {
      files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.matches("\\d+"))
          .forEach(name -> tasks.add(Long.parseLong(name)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tasks;
  }

  /** The shell's and its sleep's process ids, as the script wrote them. */
  private static long[] pidsOf(Path pids, long task) throws IOException {
    return Stream.of(Files.readString(pids.resolve(Long.toString(task))).trim().split(" "))
        .mapToLong(Long::parseLong)
        .toArray();
  }

  /** Running, and not a zombie waiting for a parent that no longer reaps. */
  private static boolean alive(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return !state.equals("Z") && !state.equals("X");
    } catch (IOException e) {
      return false;
    }
  }
}
