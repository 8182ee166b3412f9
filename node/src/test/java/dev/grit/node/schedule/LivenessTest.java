package dev.grit.node.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grit.consensus.state.StateQueries.NodeRow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Whether the leader is cut off is judged against the group's current voters, whatever the group
 * was at start-up: after members were added or removed, a healthy leader keeps scheduling and a
 * minority leader expires nobody's work.
 */
class LivenessTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final long SILENT = TIMEOUT.toMillis() + 1;

  private final FakeGroup group = new FakeGroup(null, Set.of());
  private final Liveness liveness = new Liveness(group, "n1", TIMEOUT, false, slots -> slots);

  private static List<NodeRow> registered(String... ids) {
    return java.util.Arrays.stream(ids).map(id -> new NodeRow(id, id + ":80", 2, 0, 1)).toList();
  }

  @Test
  void aLeaderHeardByAMajorityOfTheVotersLeftAfterRemovalsSchedules() {
    // Five at start-up, two removed since: n1 and n2 are a majority of the three left.
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", SILENT));
    assertEquals(Map.of("n2", 2), liveness.capacity(registered("n1", "n2", "n3", "n4", "n5"), 0));
    assertEquals(Set.of("n3"), liveness.lost(Set.of("n2", "n3"), TIMEOUT.toMillis()));
  }

  @Test
  void aLeaderHeardByHalfOfTheVotersAfterAnAdditionIsCutOff() {
    // Three at start-up, n4 added since: n1 and n2 are no majority of four.
    group.voters = Set.of("n1", "n2", "n3", "n4");
    group.silence.putAll(Map.of("n2", 0L, "n3", SILENT, "n4", SILENT));
    assertEquals(Map.of(), liveness.capacity(registered("n1", "n2", "n3", "n4"), 0));
    assertEquals(Set.of(), liveness.lost(Set.of("n3", "n4"), 10 * TIMEOUT.toMillis()));
  }

  @Test
  void duringAMembershipChangeTheLeaderNeedsAMajorityOfBothConfigurations() {
    group.voters = Set.of("n1", "n2", "n3");
    group.previousVoters = Set.of("n1", "n4", "n5");
    group.silence.putAll(Map.of("n2", 0L, "n3", 0L, "n4", SILENT, "n5", SILENT));
    assertEquals(Set.of(), liveness.lost(Set.of("n4", "n5"), 10 * TIMEOUT.toMillis()));
    group.silence.put("n4", 0L);
    assertEquals(Set.of("n5"), liveness.lost(Set.of("n4", "n5"), 10 * TIMEOUT.toMillis()));
  }

  @Test
  void aFollowerSilentPastTheTimeoutGetsNoWorkAndTheLeaderRunsNoneWhileAnotherMay() {
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", SILENT));
    assertEquals(Map.of("n2", 2), liveness.capacity(registered("n1", "n2", "n3"), 0));
    group.silence.put("n2", SILENT);
    // Cut off now: nobody may take work, the leader included.
    assertEquals(Map.of(), liveness.capacity(registered("n1", "n2", "n3"), 0));
  }
}
