package dev.grit.consensus.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply.RulesFollowed;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record's rules version: raised by one entry, and never applied by code that lacks it. */
class RulesVersionTest {
  @TempDir Path dir;

  @Test
  void aRaiseTakesEffectOnlyUpwardAndOnlyWhereTheCodeKnowsTheRules() throws Exception {
    Path file = dir.resolve("state.db");
    try (SqlState state = SqlState.open(file, DurableFiles.SYSTEM, 3)) {
      assertEquals(RulesVersion.INITIAL, state.rulesVersion());
      assertEquals(new RulesFollowed(3), state.apply(1, 1, new RaiseRulesVersion(3, 10)).reply());
      assertEquals(new RulesFollowed(3), state.apply(1, 2, new RaiseRulesVersion(2, 20)).reply());
      assertEquals(3, state.rulesVersion());
      assertEquals(3, state.queries().rulesVersion());

      String before = state.dump();
      var e =
          assertThrows(
              UnsupportedRulesException.class,
              () -> state.apply(1, 3, new RaiseRulesVersion(4, 30)));
      assertTrue(e.getMessage().contains("rules version 4, newer than this release"), e.getMessage());
      assertEquals(before, state.dump(), "a refused raise changes nothing");
      assertEquals(2, state.appliedIndex());
    }
  }

  @Test
  void codeOfOlderRulesRefusesToOpenTheRecord() throws Exception {
    Path file = dir.resolve("state.db");
    try (SqlState state = SqlState.open(file, DurableFiles.SYSTEM, 2)) {
      state.apply(1, 1, new RaiseRulesVersion(2, 10));
    }
    var e = assertThrows(IOException.class, () -> SqlState.open(file, DurableFiles.SYSTEM, 1));
    assertTrue(e.getMessage().contains("upgrade this node"), e.getMessage());
    try (SqlState state = SqlState.open(file, DurableFiles.SYSTEM, 2)) {
      assertEquals(2, state.rulesVersion());
    }
  }

  @Test
  void eachNodeRecordsTheRulesItsCodeSupports() throws Exception {
    try (SqlState state = SqlState.open(dir.resolve("state.db"))) {
      state.apply(1, 1, new RegisterNode("old", "", 1, 5));
      state.apply(1, 2, new RegisterNode("new", "127.0.0.1:1", 2, 6, 2));
      var versions =
          state.queries().nodes().stream()
              .map(n -> n.id() + "=" + n.rulesVersion())
              .toList();
      assertEquals(java.util.List.of("new=2", "old=" + RulesVersion.SUPPORTED), versions);
    }
  }
}
