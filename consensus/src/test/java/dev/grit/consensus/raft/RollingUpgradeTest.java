package dev.grit.consensus.raft;

import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RulesVersion;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A rolling upgrade over three real members: the rules version is raised by one entry, members
 * whose code knows the new rules apply it, and a member still on the old code stops with a
 * message instead of applying what its peers apply differently; upgraded, it catches up.
 */
class RollingUpgradeTest {
  private static final int NEW_RULES = RulesVersion.SUPPORTED + 1;

  @Test
  void aMemberOfOlderCodeStopsAtTheRaiseAndCatchesUpOnceUpgraded() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        cluster -> {
          cluster.leader().submit(submit("r1", "p", 1000, step("gen", "x"))).get(60, TimeUnit.SECONDS);
          cluster.awaitConverged();
          // Two of three members run the new release; m2 still runs the old one.
          cluster.restartWithRules(0, NEW_RULES);
          cluster.awaitConverged();
          cluster.restartWithRules(1, NEW_RULES);
          cluster.awaitConverged();

          try {
            cluster.leader().submit(new RaiseRulesVersion(NEW_RULES, 2000)).get(60, TimeUnit.SECONDS);
          } catch (java.util.concurrent.ExecutionException leaderWasTheOldMember) {
            // The entry commits all the same; the old leader just cannot apply it.
          }
          Wait.until(
              "the upgraded members to follow the new rules",
              MiniCluster.TIMEOUT,
              () -> rules(cluster, 0) == NEW_RULES && rules(cluster, 1) == NEW_RULES,
              cluster::describe);
          Wait.until(
              "the old member to stop", MiniCluster.TIMEOUT, () -> !cluster.fatal().calls().isEmpty());
          var stop = cluster.fatal().calls().get(0);
          assertEquals(1, cluster.fatal().calls().size(), "only the old member stops");
          assertTrue(stop.what().startsWith("m2: applying log entry"), stop.what());
          assertTrue(stop.cause().getMessage().contains("upgrade this node"), stop.cause().getMessage());
          assertEquals(RulesVersion.INITIAL, rules(cluster, 2), "the old member applied no new rule");

          cluster.fatal().clear();
          cluster.restartWithRules(2, NEW_RULES);
          cluster.leader().submit(submit("r2", "p", 3000, step("gen", "y"))).get(60, TimeUnit.SECONDS);
          cluster.awaitConverged();
          Wait.until(
              "the upgraded member to catch up",
              MiniCluster.TIMEOUT,
              () -> rules(cluster, 2) == NEW_RULES,
              () -> cluster.describe() + "\nm2:\n" + cluster.dump(2) + "\nm0:\n" + cluster.dump(0));
          assertEquals(cluster.dump(0), cluster.dump(2));
          assertEquals(cluster.dump(0), cluster.dump(1));
        });
  }

  private static int rules(MiniCluster cluster, int i) {
    return cluster.isRunning(i) ? cluster.stateMachine(i).queries().rulesVersion() : -1;
  }
}
