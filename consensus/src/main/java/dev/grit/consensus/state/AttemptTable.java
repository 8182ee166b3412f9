package dev.grit.consensus.state;

import dev.grit.engine.command.ReportResults.Report;
import java.sql.SQLException;

/** Rows of the {@code attempt} table: one per try of a task, numbered from 1. */
final class AttemptTable {
  private final Statements sql;

  AttemptTable(Statements sql) {
    this.sql = sql;
  }

  /** The attempt begins RUNNING on {@code node}. */
  void start(long taskId, int n, String node, long assignedAt) throws SQLException {
    sql.update(
        "INSERT INTO attempt(task_id, n, node, assigned_at, outcome) VALUES (?,?,?,?,?)",
        taskId,
        n,
        node,
        assignedAt,
        AttemptOutcome.RUNNING);
  }

  /** The attempt ended as its node reported. */
  void endReported(Report report, AttemptOutcome outcome, String error) throws SQLException {
    end(
        report.taskId(),
        report.attempt(),
        outcome,
        report.startedAt(),
        report.exitCode(),
        report.finishedAt(),
        report.log().digest().toString(),
        error);
  }

  /** The attempt ended without a report: lost or cancelled at {@code at}, for {@code reason}. */
  void endUnreported(long taskId, int n, AttemptOutcome outcome, long at, String reason)
      throws SQLException {
    end(taskId, n, outcome, null, null, at, null, reason);
  }

  private void end(
      long taskId,
      int n,
      AttemptOutcome outcome,
      Long startedAt,
      Integer exitCode,
      long finishedAt,
      String logHash,
      String error)
      throws SQLException {
    sql.update(
        "UPDATE attempt SET outcome = ?, started_at = ?, exit_code = ?, finished_at = ?,"
            + " log_hash = ?, error = ? WHERE task_id = ? AND n = ?",
        outcome,
        startedAt,
        exitCode,
        finishedAt,
        logHash,
        error,
        taskId,
        n);
  }
}
