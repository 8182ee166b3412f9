package dev.grit.node.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grit.consensus.state.StateQueries.NodeRow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Which nodes the leader gives work to and which it counts as lost, against a fake group and the
 * time as each call gives it. Whether the leader is cut off is judged against the group's current
 * voters, whatever the group was at start-up: after members were added or removed, a healthy
 * leader keeps scheduling and a minority leader expires nobody's work. A follower gets work only
 * once it has acknowledged what was committed a while ago, and the leader only when no follower
 * may.
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

  @Test
  void aFollowerGetsWorkOnlyWhileItHasAcknowledgedWhatWasCommittedASecondAgo() {
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", 0L));
    var nodes = registered("n1", "n2", "n3");
    group.commitIndex = 10;
    group.acknowledged.putAll(Map.of("n2", 10L, "n3", 5L));
    // This leader's first look: what is committed now must be acknowledged; n3 lags.
    assertEquals(Map.of("n2", 2), liveness.capacity(nodes, 0));

    // Entries commit that neither follower has acknowledged yet: a second is theirs to catch up.
    group.commitIndex = 20;
    assertEquals(Map.of("n2", 2), liveness.capacity(nodes, 500));
    long late = 500 + Liveness.CAUGHT_UP_MILLIS;
    assertEquals(Map.of("n2", 2), liveness.capacity(nodes, late - 1));
    // Entries 11..20 were committed a second ago and neither follower has them: the leader, which
    // runs no tasks while a follower may, takes the work itself.
    assertEquals(Map.of("n1", 2), liveness.capacity(nodes, late));

    group.acknowledged.put("n3", 20L);
    assertEquals(Map.of("n3", 2), liveness.capacity(nodes, late + 1));
  }

  @Test
  void aNewTermForgetsWhatWasCommittedBeforeIt() {
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", 0L));
    var nodes = registered("n1", "n2", "n3");
    group.commitIndex = 100;
    assertEquals(Map.of("n2", 2, "n3", 2), liveness.capacity(nodes, 0));

    // Leading again ten seconds later: Ratis says every follower was just heard from, but n2 has
    // not acknowledged what this leader committed before it looked.
    liveness.reset();
    group.commitIndex = 200;
    group.acknowledged.put("n2", 150L);
    assertEquals(Map.of("n3", 2), liveness.capacity(nodes, 10_000));
  }

  @Test
  void theLeaderTakesWorkOnlyWhenNoFollowerMayUnlessToldTo() {
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", 0L));
    var draining =
        List.of(new NodeRow("n1", "n1:80", 2, 0, 1), new NodeRow("n2", "n2:80", 0, 0, 1));
    // n2 registered with no slots (it is stopping) and n3 never registered: only the leader may.
    assertEquals(Map.of("n1", 2), liveness.capacity(draining, 0));

    var eager = new Liveness(group, "n1", TIMEOUT, true, slots -> slots + 1);
    assertEquals(Map.of("n1", 3, "n2", 3), eager.capacity(registered("n1", "n2"), 0));
  }

  @Test
  void nobodyIsLostWithinTheFirstTimeoutOfALeaderAndTheLeaderNever() {
    group.voters = Set.of("n1", "n2", "n3");
    group.silence.putAll(Map.of("n2", 0L, "n3", SILENT));
    assertEquals(Set.of(), liveness.lost(Set.of("n1", "n3"), TIMEOUT.toMillis() - 1));
    assertEquals(Set.of("n3"), liveness.lost(Set.of("n1", "n3"), TIMEOUT.toMillis()));
  }
}
