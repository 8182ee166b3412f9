package dev.grit.engine.command;

import java.util.List;

/** The leader's choice of which node runs which task's next attempt. */
public record AssignTasks(long at, List<Assignment> assignments) implements Command {
  public AssignTasks {
    assignments = List.copyOf(assignments);
  }

  /** Task {@code taskId}'s attempt number {@code attempt} runs on {@code node}. */
  public record Assignment(long taskId, int attempt, String node) {}
}
