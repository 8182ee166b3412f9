package dev.grit.node.schedule;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.AttemptOutcome;
import dev.grit.consensus.state.SqlState;
import dev.grit.consensus.state.StateQueries.AttemptInfo;
import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader's rounds against a fake group and clock, over a real record. */
class LeaderLoopTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path dir;
  private SqlState record;
  private FakeGroup group;
  private long now = 1_000;
  private LeaderLoop loop;

  @BeforeEach
  void setUp() throws Exception {
    record = SqlState.open(dir.resolve("state.db"));
    group = new FakeGroup(record, Set.of("n1", "n2", "n3"));
    for (String id : List.of("n1", "n2", "n3")) {
      group.apply(new RegisterNode(id, id + ":80", 1, 0));
    }
    // Every member runs this code, whose rules the record follows already: nothing to raise.
    group.apply(new RaiseRulesVersion(RulesVersion.SUPPORTED, 0));
    group.apply(submit("r1", "pipe", 0, step("a", "true")));
    group.apply(assign(0, 1, 1, "n2"));
    InstantSource clock = () -> Instant.ofEpochMilli(now);
    loop = new LeaderLoop(group, group, record::queries, "n1", TIMEOUT, false, slots -> slots, clock);
  }

  @AfterEach
  void tearDown() {
    record.close();
  }

  private List<AttemptInfo> attempts() {
    return record.queries().attempts(1);
  }

  @Test
  void aNewLeaderWaitsOneTimeoutThenGivesASilentNodesWorkToALiveOne() throws Exception {
    group.silence.put("n2", TIMEOUT.toMillis() * 5);
    group.silence.put("n3", 0L);
    loop.tick();
    now += TIMEOUT.toMillis() - 1;
    loop.tick();
    assertEquals(List.of(), group.proposed, "within the new leader's grace");

    now += 1;
    loop.tick();
    assertEquals(2, group.proposed.size(), group.proposed::toString);
    assertTrue(group.proposed.get(0) instanceof ExpireAttempts, group.proposed::toString);
    assertTrue(group.proposed.get(1) instanceof AssignTasks, group.proposed::toString);
    var history = attempts();
    assertEquals("n2", history.get(0).node());
    assertEquals(AttemptOutcome.LOST, history.get(0).outcome());
    assertEquals("n3", history.get(1).node());
  }

  @Test
  void aLeaderCutOffFromTheCurrentVotersExpiresAndAssignsNothing() throws Exception {
    // n4 joined since the group started with three: hearing n3 alone is no majority now.
    group.apply(new RegisterNode("n4", "n4:80", 1, 0));
    group.voters = Set.of("n1", "n2", "n3", "n4");
    group.silence.put("n2", TIMEOUT.toMillis() * 5);
    group.silence.put("n3", 0L);
    group.silence.put("n4", TIMEOUT.toMillis() * 5);
    loop.tick();
    now += TIMEOUT.toMillis() * 2;
    loop.tick();
    assertEquals(List.of(), group.proposed);
  }

  @Test
  void aMemberThatStopsLeadingStartsItsGraceAgainWhenItLeadsOnceMore() throws Exception {
    group.silence.put("n2", TIMEOUT.toMillis() * 5);
    group.silence.put("n3", 0L);
    loop.tick();
    group.leaderReady = false;
    now += TIMEOUT.toMillis();
    loop.tick();
    group.leaderReady = true;
    loop.tick();
    assertEquals(List.of(), group.proposed, "a new term gives one full timeout of grace");
    now += TIMEOUT.toMillis();
    loop.tick();
    assertTrue(group.proposed.get(0) instanceof ExpireAttempts, group.proposed::toString);
  }

  @Test
  void theLeaderRaisesTheRulesOnceEveryVoterSupportsThem() throws Exception {
    try (SqlState fresh = SqlState.open(dir.resolve("fresh.db"))) {
      var other = new FakeGroup(fresh, Set.of("n1", "n2"));
      other.apply(new RegisterNode("n1", "n1:80", 1, 0));
      other.apply(new RegisterNode("n2", "n2:80", 1, 0, RulesVersion.INITIAL));
      InstantSource clock = () -> Instant.ofEpochMilli(now);
      var leader =
          new LeaderLoop(other, other, fresh::queries, "n1", TIMEOUT, false, slots -> slots, clock);
      leader.tick();
      assertEquals(List.of(), other.proposed, "n2 runs an older release");

      other.apply(new RegisterNode("n2", "n2:80", 1, 0));
      now += 10_000;
      leader.tick();
      assertEquals(
          List.of(new RaiseRulesVersion(RulesVersion.SUPPORTED, now)), other.proposed);
      assertEquals(RulesVersion.SUPPORTED, fresh.queries().rulesVersion());
    }
  }
}
