package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.TaskState;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.NodeCluster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit logs -f} through a member that does not run the attempt: that member asks the one
 * that does (over the member-only route, with its certificate) for the output so far.
 */
@Tag("slow")
class LiveLogThroughAnotherMemberTest {

  @TempDir Path dir;

  @Test
  void followsTheOutputOfAnAttemptRunningOnAnotherMember() throws Exception {
    Path gate = dir.resolve("gate");
    String manifest =
        """
        [[step]]
        name = "gated"
        script = '''
        echo first
        while [ ! -f %s ]; do sleep 0.05; done
        echo second
        '''
        """
            .formatted(gate);
    try (var cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      int leader = cluster.leader();
      var submitted =
          cluster.http().send(
              cluster.request(cluster.url(leader) + "/v1/runs?pipeline=live")
                  .POST(HttpRequest.BodyPublishers.ofString(manifest))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(201, submitted.statusCode(), submitted.body());
      long task = 1; // the run's only task, in a new cluster
      String[] runner = {null};
      Wait.until(
          "the task to be assigned",
          Duration.ofSeconds(60),
          () ->
              cluster.node(leader).queries().task(task)
                  .filter(t -> t.state() == TaskState.ASSIGNED && t.node() != null)
                  .map(t -> runner[0] = t.node())
                  .isPresent(),
          cluster::describe);
      int asked = -1;
      for (int i = 0; i < cluster.size(); i++) {
        if (!cluster.id(i).equals(runner[0])) {
          asked = i;
        }
      }

      var grit = cluster.grit(dir);
      Path out = dir.resolve("follow.out");
      Process follow =
          grit.start(
              out,
              dir.resolve("follow.err"),
              "logs",
              Long.toString(task),
              "-f",
              "--server",
              cluster.url(asked));
      String header = "== attempt 1 on " + runner[0] + ": running\n";
      Wait.until(
          "grit logs -f through " + cluster.id(asked) + " to show what " + runner[0] + " runs",
          Duration.ofSeconds(60),
          () -> read(out).equals(header + "first\n"),
          () -> "printed: " + read(out) + "\nerrors: " + read(dir.resolve("follow.err")));
      assertTrue(follow.isAlive(), "it follows until the task ends");

      Files.writeString(gate, "");
      assertTrue(follow.waitFor(60, TimeUnit.SECONDS), "grit logs -f ends with the task");
      assertEquals(0, follow.exitValue(), () -> read(dir.resolve("follow.err")));
      assertEquals(header + "first\nsecond\n", read(out));
      cluster.fatal.assertNone();
    }
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
