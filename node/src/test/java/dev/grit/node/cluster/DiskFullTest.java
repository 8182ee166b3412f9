package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.SmallDisk;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.execute.OutputMode;
import dev.grit.engine.object.Digest;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.NodeProcesses;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A script fills the disk that holds a node's data directory (a small tmpfs of its own): the
 * attempt fails with a clear error, the node stays up and runs later work once the space is back,
 * and nothing recorded points at bytes the node lacks. Both output modes, since they meet a full
 * disk differently: through FUSE a write stops short of the node's reserve, while a script writing
 * a plain directory fills the disk to the last byte, under the record's own files.
 */
@Tag("slow")
class DiskFullTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * Room for the node's files (RocksDB preallocates a 70 MiB log), its reserve (a twentieth of
   * the disk) and an 8 MiB output stored twice over.
   */
  private static final String DISK_SIZE = "192m";
  /** More than the disk holds. */
  private static final int OVERFLOW_MIB = 200;
  /** What the node's own files may grow by between two measurements of the free space. */
  private static final long SLACK = 16L << 20;

  @TempDir Path dir;
  private SmallDisk small;
  private Path disk;
  /** The node's API, and the pipelines submitted to it. */
  private String url;
  private final List<String> pipelines = new ArrayList<>();
  private NodeProcesses nodes;

  @ParameterizedTest(name = "outputs via {0}")
  @ValueSource(strings = {"fuse", "plain"})
  void aScriptFillingTheDiskFailsAloneAndTheNodeGoesOn(String mode) throws Exception {
    if (mode.equals("fuse")) {
      assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
    }
    mountSmallDisk();
    Path cluster = Files.createDirectories(dir.resolve("cluster"));
    // Member n1 keeps its data in cluster/n1. The disk is mounted outside cluster/, whose mounts
    // the harness waits to see go when it stops its members.
    Files.createSymbolicLink(cluster.resolve("n1"), disk);
    try (var node = NodeProcesses.start(cluster, 1, Map.of(OutputMode.ENV, mode))) {
      url = node.url(0);
      nodes = node;
      // The first stored chunk makes RocksDB preallocate its log: free space is measured after.
      expectSucceeded(run("warm-up", "echo ready > $OUTPUT_DIR/ready"));
      long before = free();

      // The script's write fails and so does the script.
      long overflow =
          run("overflow", "dd if=/dev/zero of=$OUTPUT_DIR/big bs=1M count=" + OVERFLOW_MIB);
      JsonNode failed = expectOneFailure(overflow);
      assertEquals("exit status 1", failed.path("error").asText(), failed.toString());
      String log = text(url + "/v1/tasks/" + failed.path("task").asLong() + "/log");
      // The script's log is written to the same disk: a script that filled it to the last byte
      // (a plain directory) leaves no room for its complaint.
      if (mode.equals("fuse")) {
        assertTrue(log.contains("No space left on device"), log);
      }
      assertTrue(resources("overflow").isEmpty());
      assertTrue(
          free() > before - SLACK, "the failed attempt's outputs still take the disk: " + mib(free()));
      assertEquals(200, node.status(0, "/readyz"), () -> node.tail(0));
      // What the failed attempt wrote is gone: an output that needs the space is stored.
      expectSucceeded(run("fits", "head -c 8388608 /dev/urandom > $OUTPUT_DIR/random"));

      // The script ignores the failed write and exits 0: its partial output is not stored.
      before = free();
      long ignored =
          run(
              "ignored",
              "dd if=/dev/urandom of=$OUTPUT_DIR/big bs=1M count=" + OVERFLOW_MIB + " || true");
      failed = expectOneFailure(ignored);
      assertTrue(
          failed.path("error").asText().startsWith("outputs could not be stored: no space left"),
          failed.toString());
      assertTrue(resources("ignored").isEmpty());
      assertTrue(
          free() > before - SLACK, "the refused outputs still take the disk: " + mib(free()));
      expectSucceeded(run("fits-again", "head -c 8388608 /dev/urandom > $OUTPUT_DIR/random"));

      // While a script holds the disk full (or down to the reserve), another attempt's report
      // reaches the record. The record's write may have to wait for room; it must not fail.
      Path full = dir.resolve("full");
      Path release = dir.resolve("release");
      long both =
          submit(
              "both",
              """
              [[step]]
              name = "fill"
              retries = 0
              script = '''
              dd if=/dev/zero of=$OUTPUT_DIR/big bs=1M count=%d
              touch %s
              while [ ! -e %s ]; do sleep 0.02; done
              exit 1
              '''

              [[step]]
              name = "quiet"
              retries = 0
              script = "while [ ! -e %s ]; do sleep 0.02; done"
              """
                  .formatted(OVERFLOW_MIB, full, release, full));
      Wait.until(
          "the disk to be full", Duration.ofSeconds(60), () -> Files.exists(full), () -> node.tail(0));
      if (mode.equals("fuse")) {
        // The script's writes stopped short of the reserve: the record takes the report at once.
        Wait.until(
            "the quiet attempt's report to be recorded",
            Duration.ofSeconds(30),
            () -> quietSucceeded(both),
            () -> node.tail(0));
      } else {
        // The script took the last byte: the record's write may have to wait for room.
        Wait.until(
            "the quiet attempt's report to reach the record",
            Duration.ofSeconds(30),
            () -> quietSucceeded(both) || nodeLog(cluster).contains("waits for room"),
            () -> node.tail(0));
      }
      assertEquals(200, node.status(0, "/livez"), () -> node.tail(0));
      Files.createFile(release);
      JsonNode view = awaitEnd(both);
      assertEquals("FAILED", view.path("state").asText(), view.toString());
      assertEquals(1, view.path("tasks").path("succeeded").asInt(), view.toString());
      failed = view.path("failed").get(0);
      assertEquals("fill", failed.path("step").asText(), view.toString());
      assertEquals("exit status 1", failed.path("error").asText(), view.toString());
      expectSucceeded(run("after", "echo after > $OUTPUT_DIR/after"));

      // Whatever the record holds is here, whole.
      int checked = 0;
      for (String pipeline : pipelines) {
        for (JsonNode r : resources(pipeline)) {
          byte[] bytes = node.get(0, "/v1/objects/" + r.path("hash").asText());
          assertEquals(r.path("hash").asText(), Digest.of(bytes).toString(), pipeline + " " + r);
          assertEquals(r.path("size").asLong(), bytes.length, pipeline + " " + r);
          checked++;
        }
      }
      assertEquals(4, checked, "one resource from each run that wrote one and succeeded");
      long tasks = 0;
      for (JsonNode run : JSON.readTree(node.get(0, "/v1/runs"))) {
        JsonNode counts = run.path("tasks");
        tasks += counts.path("succeeded").asLong() + counts.path("failed").asLong();
      }
      for (long task = 1; task <= tasks; task++) {
        assertEquals(200, node.status(0, "/v1/tasks/" + task + "/log"), "the log of task " + task);
      }
      assertEquals(200, node.status(0, "/readyz"), () -> node.tail(0));
      assertFalse(nodeLog(cluster).contains("grit: fatal"), () -> node.tail(0));
      if (mode.equals("fuse")) {
        assertFalse(nodeLog(cluster).contains("waits for room"), () -> node.tail(0));
      }
    }
  }

  /** The embedded {@code grit run}, its data directory on the small disk. */
  @Test
  void anEmbeddedRunEndsFailedAndTheNextOneSucceeds() throws Exception {
    mountSmallDisk();
    var grit = new Grit(dir, Map.of());
    Path db = disk.resolve("db");
    Path ignored = dir.resolve("ignored.toml");
    Files.writeString(
        ignored,
        """
        [[step]]
        name = "fill"
        retries = 0
        script = "dd if=/dev/urandom of=$OUTPUT_DIR/big bs=1M count=%d || true"
        """
            .formatted(OVERFLOW_MIB));
    var first = grit.run("run", ignored.toString(), "--db", db.toString());
    // 1 is a failed run; a node that halted would have exited 70.
    assertEquals(1, first.exit(), first::toString);
    assertTrue(first.err().contains("outputs could not be stored: no space left"), first::toString);

    Path fits = dir.resolve("fits.toml");
    Files.writeString(
        fits,
        """
        [[step]]
        name = "count"
        script = "seq 1 1500000 > $OUTPUT_DIR/numbers"
        """);
    var second = grit.run("run", fits.toString(), "--db", db.toString());
    assertEquals(0, second.exit(), second::toString);
    var exported = grit.run("export", "numbers", "--db", db.toString());
    assertEquals(0, exported.exit(), exported::toString);
    var bytes = grit.run("export-hash", exported.out().split("\t")[0], "--db", db.toString());
    assertEquals(0, bytes.exit(), bytes::toString);
    var expected = new StringBuilder();
    for (int i = 1; i <= 1_500_000; i++) {
      expected.append(i).append('\n');
    }
    assertTrue(
        expected.toString().equals(bytes.out()), "the exported bytes differ from what was written");
  }

  private void mountSmallDisk() throws Exception {
    small = SmallDisk.mount(dir.resolve("disk"), DISK_SIZE);
    disk = small.path();
  }

  @AfterEach
  void unmount() {
    if (small != null) {
      small.close();
    }
  }

  private long free() throws IOException {
    return small.free();
  }

  private static String mib(long bytes) {
    return (bytes >> 20) + " MiB free";
  }

  private static String nodeLog(Path cluster) {
    try {
      return Files.readString(cluster.resolve("n1.log"));
    } catch (IOException e) {
      return "";
    }
  }

  /** Runs a one-step manifest as pipeline {@code name} to its end; returns the run's id. */
  private long run(String name, String script) throws Exception {
    String manifest =
        "[[step]]\nname = \"%s\"\nretries = 0\nscript = '''\n%s\n'''\n".formatted(name, script);
    long run = submit(name, manifest);
    awaitEnd(run);
    return run;
  }

  private long submit(String pipeline, String manifest) throws Exception {
    pipelines.add(pipeline);
    var response =
        nodes.http().send(
            nodes.request(url + "/v1/runs?pipeline=" + pipeline)
                .POST(HttpRequest.BodyPublishers.ofString(manifest))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(201, response.statusCode(), response.body());
    return JSON.readTree(response.body()).path("run").asLong();
  }

  private JsonNode awaitEnd(long run) {
    JsonNode[] last = new JsonNode[1];
    Wait.until(
        "run " + run + " to end",
        Duration.ofSeconds(90),
        () -> {
          try {
            last[0] = JSON.readTree(text(url + "/v1/runs/" + run));
            return !last[0].path("state").asText().equals("RUNNING");
          } catch (Exception e) {
            return false;
          }
        },
        () -> String.valueOf(last[0]));
    return last[0];
  }

  private void expectSucceeded(long run) throws Exception {
    JsonNode view = JSON.readTree(text(url + "/v1/runs/" + run));
    assertEquals("SUCCEEDED", view.path("state").asText(), view.toString());
  }

  /** The one failed task of a run that failed. */
  private JsonNode expectOneFailure(long run) throws Exception {
    JsonNode view = JSON.readTree(text(url + "/v1/runs/" + run));
    assertEquals("FAILED", view.path("state").asText(), view.toString());
    assertEquals(1, view.path("failed").size(), view.toString());
    return view.path("failed").get(0);
  }

  private boolean quietSucceeded(long run) {
    try {
      JsonNode tasks = JSON.readTree(text(url + "/v1/runs/" + run)).path("tasks");
      return tasks.path("succeeded").asInt() == 1;
    } catch (Exception e) {
      return false;
    }
  }

  private JsonNode resources(String pipeline) throws Exception {
    return JSON.readTree(text(url + "/v1/pipelines/" + pipeline + "/resources"));
  }

  private String text(String url) throws Exception {
    var response =
        nodes.http().send(
            nodes.request(url).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), url + ": " + response.body());
    return response.body();
  }
}
