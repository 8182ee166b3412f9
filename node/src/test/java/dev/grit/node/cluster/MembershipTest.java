package dev.grit.node.cluster;

import static dev.grit.node.cluster.ClusterRunTest.awaitEnd;
import static dev.grit.node.cluster.ClusterRunTest.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.state.RunState;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.testing.NodeCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Membership changes: a new node whose peers already form a group joins it instead of forming its
 * own, a member (the leader, here) is removed with leadership handed over first, and a member
 * that lost its disk afterwards rejoins the group as it is then, not as its start-up peers were.
 */
@Tag("slow")
class MembershipTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void aNewNodeJoinsTheFormedGroupAndTheLeaderCanBeRemoved() throws Exception {
    try (var cluster = NodeCluster.start(dir, 3, 2)) {
      int leader = cluster.leader();
      long first = submit(cluster.node(leader), ClusterRunTest.MANIFEST);
      assertEquals(RunState.SUCCEEDED, awaitEnd(cluster.node(leader), first));

      // n4 is started with the members and itself: its peers already form a group without it.
      var peers = new ArrayList<>(cluster.config(0).peers());
      var n4 = new Peer("n4", "127.0.0.1", Ports.take());
      peers.add(n4);
      cluster.secrets.issue("n4");
      var config =
          new NodeConfig(
              "test",
              "n4",
              peers,
              dir.resolve("n4"),
              "127.0.0.1:" + Ports.take(),
              2,
              false,
              NodeConfig.DEFAULT_NODE_TIMEOUT,
              null,
              cluster.secrets.security("n4"));
      Node[] joined = new Node[1];
      NodeCluster.withPlainOutputs(
          () -> {
            try {
              joined[0] = Node.start(config, InstantSource.system(), cluster.fatal);
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          });
      try (Node fourth = joined[0]) {
        Node lead = cluster.node(cluster.leader());
        assertEquals(List.of("n1", "n2", "n3", "n4"), ids(lead.raft().membership().members()));
        assertEquals(List.of("n1", "n2", "n3", "n4"), ids(fourth.raft().membership().members()));
        // It has the record from before it joined, and its own registration.
        assertTrue(fourth.queries().run(first).isPresent());
        Wait.until(
            "n4's registration to be applied on n4",
            Duration.ofSeconds(10),
            () -> fourth.queries().nodes().stream().anyMatch(n -> n.id().equals("n4")));

        // Removing the leader through another member's API: leadership moves first.
        int oldLeaderIndex = cluster.leader();
        String oldLeader = cluster.id(oldLeaderIndex);
        int other = (oldLeaderIndex + 1) % 3;
        var http = cluster.http();
        var removed =
            http.send(
                cluster.request(cluster.url(other) + "/v1/cluster/members/" + oldLeader)
                    .DELETE()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, removed.statusCode(), removed.body());
        JsonNode members = JSON.readTree(removed.body()).path("members");
        var left = new ArrayList<String>();
        members.forEach(m -> left.add(m.path("id").asText()));
        assertFalse(left.contains(oldLeader), left.toString());
        assertEquals(3, left.size(), left.toString());
        Wait.until(
            "a leader among the remaining members",
            Duration.ofSeconds(30),
            () -> {
              String now = fourth.raft().leaderId();
              return now != null && !now.equals(oldLeader);
            });

        // Asking again for the removed one is a 404 with a JSON error; a bad address a 400.
        var again =
            http.send(
                cluster.request(cluster.url(other) + "/v1/cluster/members/" + oldLeader)
                    .DELETE()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(404, again.statusCode(), again.body());
        var bad =
            cluster
                .grit(dir)
                .run("cluster", "add-member", "n9", "nowhere", "--server", cluster.url(other));
        assertEquals(2, bad.exit(), bad::toString);
        assertTrue(bad.err().contains("host:port"), bad::toString);

        // A removed member is stopped, as an operator would; the three that remain run a new
        // pipeline to the end.
        cluster.kill(oldLeaderIndex);
        long next = submit(fourth, ClusterRunTest.MANIFEST.replace("line $i", "after $i"));
        assertEquals(RunState.SUCCEEDED, awaitEnd(fourth, next));

        // A remaining member, started with the first three as its peers, loses its disk: it
        // rejoins the group as it is now, n4 kept and the removed member not brought back.
        var now = ids(fourth.raft().membership().members());
        String leaderNow = fourth.raft().leaderId();
        int wiped = -1;
        for (int i = 0; i < 3; i++) {
          if (i != oldLeaderIndex && !cluster.id(i).equals(leaderNow)) {
            wiped = i;
          }
        }
        cluster.wipeAndRestart(wiped);
        Node back = cluster.node(wiped);
        long commit = fourth.raft().commitIndex();
        Wait.until(
            cluster.id(wiped) + " to catch up",
            Duration.ofSeconds(90),
            () -> back.raft().lastAppliedIndex() >= commit,
            cluster::describe);
        assertEquals(now, ids(fourth.raft().membership().members()));
        assertEquals(now, ids(back.raft().membership().members()));
        long after = submit(back, ClusterRunTest.MANIFEST.replace("line $i", "rejoined $i"));
        assertEquals(RunState.SUCCEEDED, awaitEnd(back, after), cluster::describe);
        assertTrue(cluster.fatal.calls().isEmpty(), cluster.fatal.calls().toString());
      }
    }
  }

  private static List<String> ids(List<Peer> peers) {
    return peers.stream().map(Peer::id).toList();
  }
}
