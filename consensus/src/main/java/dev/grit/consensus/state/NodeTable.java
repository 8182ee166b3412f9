package dev.grit.consensus.state;

import dev.grit.engine.command.RegisterNode;
import java.sql.SQLException;

/** Rows of the {@code node} table: the nodes that registered, as they last did. */
final class NodeTable {
  private final Statements sql;

  NodeTable(Statements sql) {
    this.sql = sql;
  }

  /** Records the node as {@code n} announces it, replacing what it announced before. */
  void register(RegisterNode n) throws SQLException {
    sql.update(
        "INSERT OR REPLACE INTO node(id, http_address, slots, registered_at, rules_version)"
            + " VALUES (?,?,?,?,?)",
        n.node(),
        n.httpAddress(),
        n.slots(),
        n.at(),
        n.rulesVersion());
  }
}
