package dev.grit.engine.command;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RulesVersionTest {
  @Test
  void raisesToWhatTheLeastUpgradedMemberSupports() {
    assertEquals(
        OptionalInt.of(2),
        RulesVersion.raiseTo(1, List.of("a", "b", "c"), Map.of("a", 3, "b", 2, "c", 4)));
  }

  @Test
  void keepsTheRulesWhileAMemberRunsOldCode() {
    assertEquals(
        OptionalInt.empty(),
        RulesVersion.raiseTo(1, List.of("a", "b", "c"), Map.of("a", 2, "b", 1, "c", 2)));
  }

  @Test
  void keepsTheRulesWhileAMemberHasNotRegistered() {
    assertEquals(
        OptionalInt.empty(), RulesVersion.raiseTo(1, List.of("a", "b"), Map.of("a", 2)));
  }

  @Test
  void aRemovedNodesRegistrationDoesNotHoldTheClusterBack() {
    assertEquals(
        OptionalInt.of(2), RulesVersion.raiseTo(1, List.of("a", "b"), Map.of("a", 2, "b", 2, "gone", 1)));
  }

  @Test
  void neverLowersOrRepeats() {
    assertEquals(OptionalInt.empty(), RulesVersion.raiseTo(2, List.of("a"), Map.of("a", 2)));
    assertEquals(OptionalInt.empty(), RulesVersion.raiseTo(3, List.of("a"), Map.of("a", 2)));
    assertEquals(OptionalInt.empty(), RulesVersion.raiseTo(1, List.of(), Map.of()));
  }
}
