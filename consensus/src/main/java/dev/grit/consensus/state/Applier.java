package dev.grit.consensus.state;

import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.SubmitRun;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies commands to the record inside the caller's transaction, each by the rules of its kind:
 * {@link RunRules}, {@link TaskRules}, {@link NodeRules}, {@link RetentionRules}, which read and write the record through
 * one class per table. Deterministic: it reads only the record and the command, never the clock,
 * the node or local files.
 */
final class Applier {
  private final Statements sql;
  private final MetaTable meta;
  private final RunRules runRules;
  private final TaskRules taskRules;
  private final NodeRules nodeRules;
  private final RetentionRules retention;
  /** What the entry being applied changed: filled by the rules, handed out with the reply. */
  private final List<StateEvent> events = new ArrayList<>();

  Applier(Connection c, int supportedRules) {
    sql = new Statements(c);
    meta = new MetaTable(sql);
    var runs = new RunTable(sql);
    var steps = new StepTable(sql);
    var tasks = new TaskTable(sql);
    var attempts = new AttemptTable(sql);
    var resources = new ResourceTable(sql);
    runRules =
        new RunRules(runs, steps, tasks, attempts, resources, new InputSetTable(sql), meta, events);
    retention = new RetentionRules(sql, meta, events);
    taskRules =
        new TaskRules(tasks, attempts, resources, steps, runs, meta, runRules, retention, events);
    nodeRules = new NodeRules(new NodeTable(sql), meta, supportedRules);
  }

  /** Applies {@code command} as log entry {@code index}; returns the reply and the events. */
  ApplyResult apply(long index, Command command) throws SQLException {
    events.clear();
    Reply reply;
    if (command instanceof SubmitRun s) {
      reply = runRules.submit(s, index);
    } else if (command instanceof AssignTasks a) {
      reply = taskRules.assign(a);
    } else if (command instanceof PutChunks p) {
      // The bytes were stored beside the log: nothing to record, unless a Gc had collected them.
      retention.chunksArrived(p, meta.rulesVersion());
      reply = new Reply.ChunksStored(p.chunks().size());
    } else if (command instanceof ReportResults r) {
      reply = taskRules.report(r, index);
    } else if (command instanceof ExpireAttempts e) {
      reply = taskRules.expire(e, index);
    } else if (command instanceof CancelRun r) {
      reply = runRules.cancel(r);
    } else if (command instanceof RetryTasks r) {
      reply = runRules.retry(r);
    } else if (command instanceof RegisterNode n) {
      reply = nodeRules.register(n);
    } else if (command instanceof RaiseRulesVersion r) {
      reply = nodeRules.raiseRules(r);
    } else if (command instanceof Gc g) {
      reply = retention.gc(g, index);
    } else {
      throw new IllegalArgumentException("no apply rule for " + command);
    }
    return new ApplyResult(reply, events);
  }

  /** The rules version the record follows now. */
  int rulesVersion() throws SQLException {
    return meta.rulesVersion();
  }

  void close() {
    sql.close();
  }
}
