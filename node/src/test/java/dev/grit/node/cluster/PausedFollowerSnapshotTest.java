package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.NodeProcesses;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A follower frozen (SIGSTOP) for less than the node timeout, while the leader assigns it work
 * and then purges the log behind a snapshot, learns of that work only from the snapshot it
 * installs when it resumes: no log entry, so no event, tells it. The leader still counts it live,
 * so nothing expires its attempts either. It must run them itself, under their own attempt
 * numbers, and the run must end well within the node timeout of its resuming.
 *
 * <p>While it is frozen its Raft links also drop what they carry ({@link
 * NodeProcesses#partition}). Without that, the entries the leader sent it before the purge would
 * wait in its sockets' buffers on loopback, and it would apply them when it resumed, before the
 * snapshot: the path of an ordinary short pause. The cut links stand for a pause long enough
 * that what was in flight is gone (its connections timed out and were reset).
 *
 * <p>Three {@code grit node} JVMs with a long {@code --node-timeout}, a snapshot every
 * {@value #SNAPSHOT_EVERY} entries and small log segments, so a few runs push the log past what
 * the frozen follower holds.
 */
@Tag("slow")
class PausedFollowerSnapshotTest {
  static final int NODE_TIMEOUT_SECONDS = 30;
  static final int SNAPSHOT_EVERY = 20;
  /** Start steps of the run the follower gets part of: every one has a task at submission. */
  static final int STEPS = 30;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern RESTORED =
      Pattern.compile("Restoring the record from snapshot \\(t:\\d+, i:(\\d+)\\)");
  private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-\\d+)?");

  @TempDir Path dir;
  NodeProcesses cluster;

  @Test
  void aFollowerPausedAcrossASnapshotRunsTheWorkAssignedToItMeanwhile() throws Exception {
    Path home = dir.resolve("cluster");
    try (var c =
        NodeProcesses.startLinked(
            home,
            3,
            Map.of(
                "JAVA_TOOL_OPTIONS",
                "-Dgrit.snapshot.every=" + SNAPSHOT_EVERY + " -Dgrit.raft.segment.bytes=16384"),
            "--node-timeout",
            Integer.toString(NODE_TIMEOUT_SECONDS))) {
      cluster = c;
      try {
        scenario();
      } finally {
        keepLogs();
      }
    }
  }

  void scenario() throws Exception {
    Settled settled = awaitSettled();
    int leader = settled.leader();
    int paused = settled.follower();
    long applied = settled.applied();
    String pausedId = cluster.id(paused);
    cluster.sigstop(paused);
    // What is sent to it from now on is lost, not held in its sockets' buffers (see above).
    cluster.partition(paused);
    long pausedAt = System.currentTimeMillis();

    long run = submit(leader, "stranded", manyStartSteps());
    var tasks = awaitAllAssigned(leader, run);
    var stranded = new ArrayList<JsonNode>();
    for (JsonNode t : tasks) {
      if (t.path("state").asText().equals("ASSIGNED") && t.path("node").asText().equals(pausedId)) {
        stranded.add(t);
      }
    }
    if (stranded.isEmpty()) {
      fail(
          "the leader assigned "
              + pausedId
              + " none of the run's tasks (it did not count it live and caught up when the run"
              + " came), so the scenario did not arise: "
              + tasks);
    }
    // The member read from has applied the assignments: they are at or below its applied index.
    long assignedBy = member(read(leader, "/v1/cluster"), leader).path("applied_index").asLong();
    assertTrue(
        assignedBy > applied,
        "the assignments (by index " + assignedBy + ") are not past what " + pausedId + " had (" + applied + ")");

    // More runs, until the logs of the members that go on start past the assignments: a
    // snapshot is all that can tell the paused follower of them (whichever of the two leads).
    int other = 3 - leader - paused;
    int fillers = 0;
    while (Math.min(logStart(leader), logStart(other)) <= assignedBy) {
      long pausedFor = System.currentTimeMillis() - pausedAt;
      if (pausedFor > NODE_TIMEOUT_SECONDS * 1000L * 2 / 3) {
        fail(
            "after "
                + pausedFor
                + " ms and "
                + fillers
                + " more runs the logs of "
                + cluster.id(leader)
                + " and "
                + cluster.id(other)
                + " start at "
                + logStart(leader)
                + " and "
                + logStart(other)
                + ", not past the assignments (index "
                + assignedBy
                + "): the scenario did not arise well within the node timeout\n"
                + tails());
      }
      // A few at once: they share the leader's rounds and their entries come faster.
      var batch = new ArrayList<CompletableFuture<Long>>();
      for (int k = 0; k < 4; k++) {
        int n = ++fillers;
        batch.add(submitAsync(leader, "filler-" + n, filler(n)));
      }
      batch.forEach(CompletableFuture::join);
    }
    long purgedAt = System.currentTimeMillis() - pausedAt;

    long lost = cluster.link(leader, paused).droppedBytes() + cluster.link(other, paused).droppedBytes();
    assertTrue(lost > 0, "nothing sent to " + pausedId + " while it was paused was lost");
    int restoresBefore = restoredIndexes(paused).size();
    cluster.heal();
    cluster.sigcont(paused);
    long resumedAt = System.currentTimeMillis();
    System.out.printf(
        "paused %s for %d ms (%d bytes to it lost): %d of %d tasks were assigned to it; %d more"
            + " runs pushed the logs to start at %d, past the assignments (index %d) after"
            + " %d ms%n",
        pausedId,
        resumedAt - pausedAt,
        lost,
        stranded.size(),
        STEPS,
        fillers,
        Math.min(logStart(leader), logStart(other)),
        assignedBy,
        purgedAt);
    assertTrue(
        resumedAt - pausedAt < NODE_TIMEOUT_SECONDS * 1000L,
        "paused for " + (resumedAt - pausedAt) + " ms, past the node timeout");

    // Well before the node timeout could have run out since the resumption.
    Duration limit = Duration.ofSeconds(NODE_TIMEOUT_SECONDS * 2 / 3);
    Wait.until(
        "run " + run + " to succeed within " + limit.toSeconds() + " s of " + pausedId + " resuming",
        limit,
        () -> {
          JsonNode r = read(leader, "/v1/runs/" + run);
          if (r != null && r.path("state").asText().equals("SUCCEEDED")) {
            return true;
          }
          pause(100);
          return false;
        },
        () -> "its tasks on " + pausedId + " now: " + strandedNow(leader, stranded) + "\n" + tails());
    long endedAfter = System.currentTimeMillis() - resumedAt;

    // It learnt of them from a snapshot: the run was submitted after it froze with its links cut.
    List<Long> restored = restoredIndexes(paused);
    assertTrue(
        restored.size() > restoresBefore,
        pausedId + " installed no snapshot after it resumed\n" + cluster.tail(paused));
    long installed = restored.get(restored.size() - 1);
    assertTrue(
        installed >= assignedBy,
        "the snapshot " + pausedId + " installed (index " + installed + ") does not cover the assignments (index "
            + assignedBy + ")");

    for (JsonNode before : stranded) {
      JsonNode t = read(leader, "/v1/tasks/" + before.path("id").asLong());
      int attempt = before.path("attempt").asInt();
      assertEquals("SUCCEEDED", t.path("state").asText(), t::toString);
      assertEquals(1, t.path("attempts").size(), () -> "one attempt only, not lost and run again: " + t);
      JsonNode a = t.path("attempts").get(0);
      assertEquals(attempt, a.path("n").asInt(), t::toString);
      assertEquals(pausedId, a.path("node").asText(), t::toString);
      assertEquals("SUCCEEDED", a.path("outcome").asText(), t::toString);
      assertTrue(
          Instant.parse(a.path("started_at").asText()).toEpochMilli() >= resumedAt,
          () -> "started before " + pausedId + " resumed: " + t);
    }
    System.out.printf(
        "%s installed snapshot %d and ran its %d attempts itself; the run succeeded %d ms after"
            + " it resumed%n",
        pausedId,
        installed,
        stranded.size(),
        endedAfter);
  }

  /** The members' logs outlive the temporary directory, for the post-mortem. */
  void keepLogs() throws IOException {
    Path logs = Path.of("target", "paused-follower-logs");
    Files.createDirectories(logs);
    for (int i = 0; i < 3; i++) {
      Path log = dir.resolve("cluster").resolve(cluster.id(i) + ".log");
      if (Files.exists(log)) {
        Files.copy(log, logs.resolve(cluster.id(i) + ".log"), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** {@value #STEPS} start steps, each a task of its own as soon as the run is submitted. */
  static String manyStartSteps() {
    var sb = new StringBuilder("name = \"stranded\"\n");
    for (int k = 1; k <= STEPS; k++) {
      sb.append(
          """

          [[step]]
          name = "s%d"
          script = "echo %d > $OUTPUT_DIR/out_%d"
          """
              .formatted(k, k, k));
    }
    return sb.toString();
  }

  /**
   * A one-task run whose manifest text (in the log entry that submits it) is a few KiB, so that
   * segments fill and close quickly.
   */
  static String filler(int k) {
    var sb = new StringBuilder("name = \"filler-" + k + "\"\n");
    for (int line = 0; line < 40; line++) {
      sb.append("# padding that makes the submission's log entry larger: ").append(line).append('\n');
    }
    sb.append(
        """
        [[step]]
        name = "note"
        script = "echo %d > $OUTPUT_DIR/note"
        """
            .formatted(k));
    return sb.toString();
  }

  /** A settled cluster: its leader, the follower to pause and the index that follower applied. */
  record Settled(int leader, int follower, long applied) {}

  /**
   * Waits until the cluster is settled: every member registered, the same leader in the same
   * term, nothing committed for longer than a leader waits for a follower to acknowledge an entry
   * (1 s), and the follower to pause has applied everything, so the leader counts it caught up.
   */
  Settled awaitSettled() {
    Settled[] found = {null};
    long[] since = {System.nanoTime()};
    String[] seen = {""};
    Wait.until(
        "a settled cluster",
        Duration.ofSeconds(60),
        () -> {
          JsonNode any = read(0, "/v1/cluster");
          if (any == null || !any.path("leader").isTextual()) {
            pause(100);
            return false;
          }
          int leader = Integer.parseInt(any.path("leader").asText().substring(1)) - 1;
          int follower = (leader + 1) % 3;
          JsonNode lead = read(leader, "/v1/cluster");
          JsonNode mine = read(follower, "/v1/cluster");
          if (lead == null || mine == null || !lead.path("leader").asText().equals(cluster.id(leader))) {
            pause(100);
            return false;
          }
          long commit = member(lead, leader).path("commit_index").asLong();
          long applied = member(mine, follower).path("applied_index").asLong();
          boolean registered = true;
          for (JsonNode m : lead.path("members")) {
            registered &= m.path("http_address").isTextual();
          }
          String now = leader + "/" + lead.path("term").asLong() + "/" + commit;
          if (!now.equals(seen[0]) || !registered || applied < commit) {
            seen[0] = now;
            since[0] = System.nanoTime();
          }
          found[0] = new Settled(leader, follower, applied);
          if (System.nanoTime() - since[0] > 1_500_000_000L) {
            return true;
          }
          pause(100);
          return false;
        },
        this::tails);
    return found[0];
  }

  /** Waits until none of the run's tasks is pending; returns them as the leader has them. */
  List<JsonNode> awaitAllAssigned(int leader, long run) {
    List<JsonNode> found = new ArrayList<>();
    Wait.until(
        "every task of run " + run + " to be assigned",
        Duration.ofSeconds(15),
        () -> {
          found.clear();
          // The run is the cluster's first: its tasks are the first ones.
          for (long id = 1; id <= STEPS; id++) {
            JsonNode t = read(leader, "/v1/tasks/" + id);
            if (t == null || t.path("run").asLong() != run || t.path("state").asText().equals("PENDING")) {
              pause(50);
              return false;
            }
            found.add(t);
          }
          return true;
        },
        this::tails);
    return found;
  }

  String strandedNow(int leader, List<JsonNode> stranded) {
    var out = new ArrayList<String>();
    for (JsonNode t : stranded) {
      JsonNode now = read(leader, "/v1/tasks/" + t.path("id").asLong());
      out.add(
          t.path("id").asText()
              + "="
              + (now == null ? "?" : now.path("state").asText() + "/" + now.path("attempts").size() + " attempts"));
    }
    return out.toString();
  }

  /** Submits {@code manifest} to member i; returns the run's id. */
  long submit(int i, String pipeline, String manifest) {
    return submitAsync(i, pipeline, manifest).join();
  }

  CompletableFuture<Long> submitAsync(int i, String pipeline, String manifest) {
    return submitAsync(i, pipeline, manifest, UUID.randomUUID().toString(), 5);
  }

  /**
   * A 503 can come after the run was committed (the member could not confirm in time that it had
   * applied it, on a loaded machine): sent again with the same request id, it finds the same run.
   */
  private CompletableFuture<Long> submitAsync(
      int i, String pipeline, String manifest, String requestId, int triesLeft) {
    return cluster
        .http()
        .sendAsync(
            cluster
                .request(
                    cluster.url(i) + "/v1/runs?pipeline=" + pipeline + "&request_id=" + requestId)
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(manifest))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .thenCompose(
            response -> {
              if (response.statusCode() == 503 && triesLeft > 1) {
                return CompletableFuture.supplyAsync(
                        () -> null, CompletableFuture.delayedExecutor(500, TimeUnit.MILLISECONDS))
                    .thenCompose(
                        ignored -> submitAsync(i, pipeline, manifest, requestId, triesLeft - 1));
              }
              assertEquals(201, response.statusCode(), response::body);
              try {
                return CompletableFuture.completedFuture(
                    JSON.readTree(response.body()).path("run").asLong());
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
  }

  /**
   * The first index member i's Raft log still holds, from the names of its segment files
   * ({@code raft/GROUP/current/log_FIRST-LAST}, {@code log_inprogress_FIRST}).
   */
  long logStart(int i) throws IOException {
    long first = Long.MAX_VALUE;
    try (Stream<Path> groups = Files.list(dir.resolve("cluster").resolve(cluster.id(i)).resolve("raft"))) {
      for (Path group : groups.toList()) {
        Path current = group.resolve("current");
        if (!Files.isDirectory(current)) {
          continue;
        }
        // Listing reads names only: a segment renamed meanwhile does not fail it.
        try (Stream<Path> files = Files.list(current)) {
          for (Path file : files.toList()) {
            Matcher m = SEGMENT.matcher(file.getFileName().toString());
            if (m.matches()) {
              first = Math.min(first, Long.parseLong(m.group(1)));
            }
          }
        }
      }
    }
    return first == Long.MAX_VALUE ? 0 : first;
  }

  /** The indexes of the snapshots member i restored its record from, as its log tells. */
  List<Long> restoredIndexes(int i) throws IOException {
    var out = new ArrayList<Long>();
    for (String line : Files.readAllLines(dir.resolve("cluster").resolve(cluster.id(i) + ".log"))) {
      Matcher m = RESTORED.matcher(line);
      if (m.find()) {
        out.add(Long.parseLong(m.group(1)));
      }
    }
    return out;
  }

  /** Member i's answer to a GET as JSON, or null when it does not answer 200 within seconds. */
  JsonNode read(int i, String path) {
    try {
      var response =
          cluster
              .http()
              .send(
                  cluster.request(cluster.url(i) + path).timeout(Duration.ofSeconds(3)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  JsonNode member(JsonNode status, int i) {
    for (JsonNode m : status.path("members")) {
      if (m.path("id").asText().equals(cluster.id(i))) {
        return m;
      }
    }
    throw new AssertionError("no member " + cluster.id(i) + " in " + status);
  }

  String tails() {
    var out = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      out.append(cluster.tail(i)).append('\n');
    }
    return out.toString();
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
