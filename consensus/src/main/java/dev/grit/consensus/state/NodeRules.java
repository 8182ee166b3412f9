package dev.grit.consensus.state;

import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import java.sql.SQLException;

/** The apply rules of nodes and of the record's rules version. */
final class NodeRules {
  private final NodeTable nodes;
  private final MetaTable meta;
  /** The highest rules version this code applies: a record that raises it further stops it. */
  private final int supportedRules;

  NodeRules(NodeTable nodes, MetaTable meta, int supportedRules) {
    this.nodes = nodes;
    this.meta = meta;
    this.supportedRules = supportedRules;
  }

  /** The node's API address, slots and supported rules version are recorded. */
  Reply register(RegisterNode n) throws SQLException {
    nodes.register(n);
    return new Reply.NodeRegistered(n.node());
  }

  /**
   * From this entry on the record follows the rules of {@code r.version()}. A replica whose code
   * does not know them must not apply anything more: it would compute other effects than its
   * peers. It stops instead (the caller treats the exception as fatal), to be upgraded.
   */
  Reply raiseRules(RaiseRulesVersion r) throws SQLException {
    int current = meta.rulesVersion();
    if (r.version() <= current) {
      return new Reply.RulesFollowed(current);
    }
    if (r.version() > supportedRules) {
      throw new UnsupportedRulesException(r.version(), supportedRules);
    }
    meta.setRulesVersion(r.version());
    return new Reply.RulesFollowed(r.version());
  }
}
