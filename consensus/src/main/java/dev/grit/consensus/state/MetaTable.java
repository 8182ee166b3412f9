package dev.grit.consensus.state;

import dev.grit.engine.command.RulesVersion;
import java.sql.SQLException;

/** The record's own rows: its rules version ({@code meta}) and its {@code counter}s. */
final class MetaTable {
  private final Statements sql;

  MetaTable(Statements sql) {
    this.sql = sql;
  }

  /** The rules version the record follows now. */
  int rulesVersion() throws SQLException {
    Long v = sql.queryLong("SELECT rules_version FROM meta");
    return v == null ? RulesVersion.INITIAL : v.intValue();
  }

  void setRulesVersion(int version) throws SQLException {
    sql.update("UPDATE meta SET rules_version = ?", version);
  }

  void increment(String counter) throws SQLException {
    sql.update(
        "INSERT INTO counter(name, value) VALUES (?, 1)"
            + " ON CONFLICT(name) DO UPDATE SET value = value + 1",
        counter);
  }
}
