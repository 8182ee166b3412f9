package dev.grit.consensus.state;

import dev.grit.consensus.state.StateEvent.AttemptRef;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import dev.grit.engine.plan.ClusterLoad;
import dev.grit.engine.plan.PendingTask;
import dev.grit.engine.plan.Planner.TaskKey;
import dev.grit.engine.plan.SubmissionPreview;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads of the local record, as of the last applied entry. Thread-safe (calls are serialised on
 * one read connection); never blocks apply. A {@link SQLException} here is a local storage failure
 * and surfaces as {@link IllegalStateException}.
 */
public final class StateQueries implements AutoCloseable {
  private Connection c;

  StateQueries(Connection c) {
    this.c = c;
  }

  /** After the record was replaced: read the new one. */
  synchronized void use(Connection connection) {
    this.c = connection;
  }

  /**
   * @param reason why the run ended as it did, when the tasks do not say it all (gather steps a
   *     failure kept from running); null otherwise
   */
  public record RunView(
      long id,
      String pipeline,
      RunState state,
      String source,
      long submittedAt,
      Long finishedAt,
      Map<TaskState, Integer> tasks,
      String reason) {

    public int count(TaskState s) {
      return tasks.getOrDefault(s, 0);
    }
  }

  public record TaskSpec(
      long taskId,
      long runId,
      String pipeline,
      Step step,
      int stepVersion,
      TaskState state,
      int attempt,
      String node,
      String inputName,
      Digest inputHash,
      String error) {}

  public record AttemptInfo(
      long taskId,
      int n,
      String node,
      AttemptOutcome outcome,
      Integer exitCode,
      String error,
      Digest logHash,
      long assignedAt,
      Long startedAt,
      Long finishedAt) {}

  public record ResourceRow(
      long id, String pipeline, String name, Digest hash, long size, long createdAt, long producerTask) {}

  public record TaskRow(long taskId, String step, TaskState state, int attempt, String inputName, String error) {}

  public synchronized Optional<RunView> run(long runId) {
    return sql(
        () -> {
          try (var ps =
              c.prepareStatement(
                  "SELECT r.id, p.name, r.state, r.source, r.submitted_at, r.finished_at, r.reason"
                      + " FROM run r JOIN pipeline p ON p.id = r.pipeline_id WHERE r.id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(runView(rs)) : Optional.empty();
            }
          }
        });
  }

  public synchronized List<RunView> runs(int limit) {
    return sql(
        () -> {
          var out = new ArrayList<RunView>();
          try (var ps =
              c.prepareStatement(
                  "SELECT r.id, p.name, r.state, r.source, r.submitted_at, r.finished_at, r.reason"
                      + " FROM run r JOIN pipeline p ON p.id = r.pipeline_id"
                      + " ORDER BY r.id DESC LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(runView(rs));
              }
            }
          }
          return out;
        });
  }

  /**
   * Runs newest first, {@code offset} of them skipped: in one pipeline and one state, or any when
   * null.
   */
  public synchronized List<RunView> runs(String pipeline, RunState state, int offset, int limit) {
    return sql(
        () -> {
          var out = new ArrayList<RunView>();
          var where = new ArrayList<String>();
          var args = new ArrayList<String>();
          if (pipeline != null) {
            where.add("p.name = ?");
            args.add(pipeline);
          }
          if (state != null) {
            where.add("r.state = ?");
            args.add(state.name());
          }
          try (var ps =
              c.prepareStatement(
                  "SELECT r.id, p.name, r.state, r.source, r.submitted_at, r.finished_at, r.reason"
                      + " FROM run r JOIN pipeline p ON p.id = r.pipeline_id"
                      + (where.isEmpty() ? "" : " WHERE " + String.join(" AND ", where))
                      + " ORDER BY r.id DESC LIMIT ? OFFSET ?")) {
            int i = 1;
            for (String a : args) {
              ps.setString(i++, a);
            }
            ps.setInt(i++, limit);
            ps.setInt(i, offset);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(runView(rs));
              }
            }
          }
          return out;
        });
  }

  /** The manifest a run was submitted with, and where it came from. */
  public record RunManifest(String pipeline, String source, String text) {}

  public synchronized Optional<RunManifest> runManifest(long runId) {
    return sql(
        () -> {
          try (var ps =
              c.prepareStatement(
                  "SELECT p.name, r.source, r.manifest FROM run r"
                      + " JOIN pipeline p ON p.id = r.pipeline_id WHERE r.id = ?")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(new RunManifest(rs.getString(1), rs.getString(2), rs.getString(3)))
                  : Optional.empty();
            }
          }
        });
  }

  /**
   * How many of a run's tasks each step has in each state (by step name); one pass over the run's
   * rows of the {@code task_by_run} index, however many tasks the run has.
   */
  public synchronized Map<String, Map<TaskState, Integer>> stepCounts(long runId) {
    return sql(
        () -> {
          var out = new java.util.TreeMap<String, Map<TaskState, Integer>>();
          try (var ps =
              c.prepareStatement(
                  "SELECT s.name, t.state, COUNT(*) FROM task t JOIN step s ON s.id = t.step_id"
                      + " WHERE t.run_id = ? GROUP BY s.name, t.state")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.computeIfAbsent(rs.getString(1), k -> new EnumMap<>(TaskState.class))
                    .put(TaskState.valueOf(rs.getString(2)), rs.getInt(3));
              }
            }
          }
          return out;
        });
  }

  /**
   * One edge of a run's step graph: {@code consumer}'s tasks in the run took resources that {@code
   * producer} published; {@code input} is one such resource's name (the first by name).
   */
  public record StepEdge(String consumer, String producer, String input) {}

  /** The edges between a run's steps, from what its tasks consumed: single inputs and sets. */
  public synchronized List<StepEdge> stepEdges(long runId) {
    return sql(
        () -> {
          var out = new ArrayList<StepEdge>();
          try (var ps =
              c.prepareStatement(
                  "SELECT cs.name, ps.name, MIN(res.name) FROM ("
                      + " SELECT t.step_id AS consumer_id, t.input_resource_id AS resource_id"
                      + " FROM task t WHERE t.run_id = ?1 AND t.input_resource_id <> 0"
                      + " UNION ALL"
                      + " SELECT t.step_id, m.resource_id FROM task t"
                      + " JOIN input_set_member m ON m.set_id = t.input_set_id"
                      + " WHERE t.run_id = ?1 AND t.input_set_id <> 0) used"
                      + " JOIN step cs ON cs.id = used.consumer_id"
                      + " JOIN resource res ON res.id = used.resource_id"
                      + " JOIN resource_producer rp ON rp.resource_id = used.resource_id"
                      + " JOIN step ps ON ps.id = rp.step_id"
                      + " GROUP BY cs.name, ps.name ORDER BY 1, 2")) {
            ps.setLong(1, runId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(new StepEdge(rs.getString(1), rs.getString(2), rs.getString(3)));
              }
            }
          }
          return out;
        });
  }

  /**
   * One row of a run's task table: the task and its latest attempt's times and exit code (null
   * before its first attempt).
   */
  public record RunTask(
      long taskId,
      String step,
      TaskState state,
      int attempt,
      String node,
      String inputName,
      String error,
      Long startedAt,
      Long finishedAt,
      Integer exitCode) {}

  /** One page of a run's task table and how many rows the whole table has. */
  public record TaskPage(int total, List<RunTask> tasks) {}

  /**
   * A page of a run's tasks by id, in one state and of one step, or any when null. Reads the
   * {@code task_by_run} index: a page costs its own rows plus the count, not the run's size.
   */
  public synchronized TaskPage runTasks(
      long runId, TaskState state, String step, int offset, int limit) {
    return sql(
        () -> {
          String from =
              " FROM task t"
                  + (step == null ? "" : " JOIN step s ON s.id = t.step_id")
                  + " WHERE t.run_id = ?"
                  + (state == null ? "" : " AND t.state = ?")
                  + (step == null ? "" : " AND s.name = ?");
          int total;
          try (var ps = c.prepareStatement("SELECT COUNT(*)" + from)) {
            bindTaskFilter(ps, runId, state, step);
            try (ResultSet rs = ps.executeQuery()) {
              total = rs.next() ? rs.getInt(1) : 0;
            }
          }
          var tasks = new ArrayList<RunTask>();
          // The page's ids first, from the index alone; only its rows are joined.
          try (var ps =
              c.prepareStatement(
                  "SELECT t.id, s.name, t.state, t.attempt, t.node, res.name, t.error,"
                      + " a.started_at, a.finished_at, a.exit_code"
                      + " FROM (SELECT t.id" + from + " ORDER BY t.id LIMIT ? OFFSET ?) page"
                      + " JOIN task t ON t.id = page.id JOIN step s ON s.id = t.step_id"
                      + " LEFT JOIN resource res ON res.id = t.input_resource_id"
                      + " LEFT JOIN attempt a ON a.task_id = t.id AND a.n = t.attempt"
                      + " ORDER BY t.id")) {
            int i = bindTaskFilter(ps, runId, state, step);
            ps.setInt(i++, limit);
            ps.setInt(i, offset);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                int exitCode = rs.getInt(10);
                Integer exit = rs.wasNull() ? null : exitCode;
                tasks.add(
                    new RunTask(
                        rs.getLong(1),
                        rs.getString(2),
                        TaskState.valueOf(rs.getString(3)),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        nullableLong(rs, 8),
                        nullableLong(rs, 9),
                        exit));
              }
            }
          }
          return new TaskPage(total, tasks);
        });
  }

  /** Binds a task filter's parameters; returns the index of the next one. */
  private static int bindTaskFilter(
      java.sql.PreparedStatement ps, long runId, TaskState state, String step)
      throws SQLException {
    int i = 1;
    ps.setLong(i++, runId);
    if (state != null) {
      ps.setString(i++, state.name());
    }
    if (step != null) {
      ps.setString(i++, step);
    }
    return i;
  }

  /** Every step version of the pipeline, current or not, oldest first (none for a new pipeline). */
  public synchronized List<SubmissionPreview.KnownVersion> stepVersions(String pipeline) {
    return sql(
        () -> {
          var out = new ArrayList<SubmissionPreview.KnownVersion>();
          var codec = new StepCodec();
          try (var ps =
              c.prepareStatement(
                  "SELECT s.id, s.name, s.script, s.inputs, s.env, s.parallel, s.retries,"
                      + " s.retry_backoff_ms, s.timeout_ms, s.priority, s.gather, s.version,"
                      + " s.current FROM step s JOIN pipeline p ON p.id = s.pipeline_id"
                      + " WHERE p.name = ? ORDER BY s.id")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new SubmissionPreview.KnownVersion(
                        rs.getLong(1),
                        rs.getInt(12),
                        rs.getInt(13) != 0,
                        codec.fromRow(rs, rs.getInt(11) != 0)));
              }
            }
          }
          return out;
        });
  }

  /** Every resource of the pipeline with the step versions that published it, by id. */
  public synchronized List<SubmissionPreview.KnownResource> resourcesWithProducers(
      String pipeline) {
    return sql(
        () -> {
          var byId = new java.util.LinkedHashMap<Long, SubmissionPreview.KnownResource>();
          try (var ps =
              c.prepareStatement(
                  "SELECT r.id, r.name, rp.step_id FROM resource r"
                      + " JOIN pipeline p ON p.id = r.pipeline_id"
                      + " JOIN resource_producer rp ON rp.resource_id = r.id"
                      + " WHERE p.name = ? ORDER BY r.id")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long id = rs.getLong(1);
                String name = rs.getString(2);
                byId.computeIfAbsent(
                        id,
                        k -> new SubmissionPreview.KnownResource(k, name, new java.util.HashSet<>()))
                    .producerStepIds()
                    .add(rs.getLong(3));
              }
            }
          }
          return new ArrayList<>(byId.values());
        });
  }

  /**
   * How each task of the pipeline's steps stands for a submission: failed and cancelled ones are
   * retried, others kept.
   */
  public synchronized Map<TaskKey, SubmissionPreview.TaskStanding> taskStandings(String pipeline) {
    return sql(
        () -> {
          var out = new java.util.HashMap<TaskKey, SubmissionPreview.TaskStanding>();
          try (var ps =
              c.prepareStatement(
                  "SELECT t.step_id, t.input_resource_id, t.input_set_id, t.state FROM task t"
                      + " JOIN step s ON s.id = t.step_id JOIN pipeline p ON p.id = s.pipeline_id"
                      + " WHERE p.name = ?")) {
            ps.setString(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                TaskState state = TaskState.valueOf(rs.getString(4));
                out.put(
                    new TaskKey(rs.getLong(1), rs.getLong(2), rs.getLong(3)),
                    state == TaskState.FAILED || state == TaskState.CANCELLED
                        ? SubmissionPreview.TaskStanding.RETRIED
                        : SubmissionPreview.TaskStanding.KEPT);
              }
            }
          }
          return out;
        });
  }

  /** How many tasks are in each state, over every run; states no task is in are left out. */
  public synchronized Map<TaskState, Integer> tasksByState() {
    return sql(
        () -> {
          var out = new EnumMap<TaskState, Integer>(TaskState.class);
          try (var ps = c.prepareStatement("SELECT state, COUNT(*) FROM task GROUP BY state");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.put(TaskState.valueOf(rs.getString(1)), rs.getInt(2));
            }
          }
          return out;
        });
  }

  /** How many runs are in each state; states no run is in are left out. */
  public synchronized Map<RunState, Integer> runCounts() {
    return sql(
        () -> {
          var out = new EnumMap<RunState, Integer>(RunState.class);
          try (var ps = c.prepareStatement("SELECT state, COUNT(*) FROM run GROUP BY state");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.put(RunState.valueOf(rs.getString(1)), rs.getInt(2));
            }
          }
          return out;
        });
  }

  private RunView runView(ResultSet rs) throws SQLException {
    long id = rs.getLong(1);
    var counts = new EnumMap<TaskState, Integer>(TaskState.class);
    try (var ps =
        c.prepareStatement("SELECT state, COUNT(*) FROM task WHERE run_id = ? GROUP BY state")) {
      ps.setLong(1, id);
      try (ResultSet t = ps.executeQuery()) {
        while (t.next()) {
          counts.put(TaskState.valueOf(t.getString(1)), t.getInt(2));
        }
      }
    }
    return new RunView(
        id,
        rs.getString(2),
        RunState.valueOf(rs.getString(3)),
        rs.getString(4),
        rs.getLong(5),
        nullableLong(rs, 6),
        counts,
        rs.getString(7));
  }

  /**
   * Pending tasks of running runs, at most {@code perStep} of each step (in scheduling order):
   * enough to fill every free slot without reading a whole backlog on each decision.
   */
  public synchronized List<PendingTask> pending(int perStep) {
    return sql(
        () -> {
          // One indexed LIMIT query per step with pending work: a decision reads what it can
          // use, not the whole backlog.
          var steps = new ArrayList<Long>();
          try (var ps = c.prepareStatement("SELECT DISTINCT step_id FROM task WHERE state = ?")) {
            ps.setString(1, TaskState.PENDING.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                steps.add(rs.getLong(1));
              }
            }
          }
          var out = new ArrayList<PendingTask>();
          try (var ps =
              c.prepareStatement(
                  "SELECT t.id, t.attempt, t.step_id, t.run_id, s.parallel, s.priority, t.not_before"
                      + " FROM task t JOIN step s ON s.id = t.step_id JOIN run r ON r.id = t.run_id"
                      + " WHERE t.state = ? AND t.step_id = ? AND r.state = ?"
                      + " ORDER BY t.not_before, t.id LIMIT ?")) {
            ps.setString(1, TaskState.PENDING.name());
            ps.setString(3, RunState.RUNNING.name());
            for (long step : steps) {
              ps.setLong(2, step);
              ps.setInt(4, perStep);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(
                      new PendingTask(
                          rs.getLong(1),
                          rs.getInt(2) + 1,
                          rs.getLong(3),
                          rs.getLong(4),
                          rs.getInt(5),
                          rs.getInt(6),
                          rs.getLong(7)));
                }
              }
            }
          }
          return out;
        });
  }

  /** What is assigned now, with each node's free capacity out of {@code capacity}. */
  public synchronized ClusterLoad load(Map<String, Integer> capacity) {
    return sql(
        () -> {
          var byStep = new HashMap<Long, Integer>();
          var byRun = new HashMap<Long, Integer>();
          var byNode = new HashMap<String, Integer>();
          try (var ps =
              c.prepareStatement(
                  "SELECT step_id, run_id, node, COUNT(*) FROM task WHERE state = ?"
                      + " GROUP BY step_id, run_id, node")) {
            ps.setString(1, TaskState.ASSIGNED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                int n = rs.getInt(4);
                byStep.merge(rs.getLong(1), n, Integer::sum);
                byRun.merge(rs.getLong(2), n, Integer::sum);
                byNode.merge(rs.getString(3), n, Integer::sum);
              }
            }
          }
          var limits = new HashMap<Long, Integer>();
          try (var ps =
              c.prepareStatement(
                  "SELECT id, max_parallel FROM run WHERE state = ? AND max_parallel > 0")) {
            ps.setString(1, RunState.RUNNING.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                limits.put(rs.getLong(1), rs.getInt(2));
              }
            }
          }
          var nodes = new ArrayList<ClusterLoad.NodeCapacity>();
          capacity.forEach(
              (node, cap) ->
                  nodes.add(new ClusterLoad.NodeCapacity(node, cap - byNode.getOrDefault(node, 0))));
          return new ClusterLoad(nodes, byStep, byRun, limits);
        });
  }

  /** Attempts the record says {@code node} is running. */
  public synchronized List<AttemptRef> assignedTo(String node) {
    return sql(
        () -> {
          var out = new ArrayList<AttemptRef>();
          try (var ps =
              c.prepareStatement(
                  "SELECT id, attempt FROM task WHERE node = ? AND state = ? ORDER BY id")) {
            ps.setString(1, node);
            ps.setString(2, TaskState.ASSIGNED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(new AttemptRef(rs.getLong(1), rs.getInt(2), node));
              }
            }
          }
          return out;
        });
  }

  public synchronized Optional<TaskSpec> task(long taskId) {
    return sql(
        () -> {
          try (var ps =
              c.prepareStatement(
                  "SELECT s.id, s.name, s.script, s.inputs, s.env, s.parallel, s.retries,"
                      + " s.retry_backoff_ms, s.timeout_ms, s.priority, s.version, t.run_id, p.name,"
                      + " t.state, t.attempt, t.node, res.name, res.object_hash, t.error, s.gather"
                      + " FROM task t JOIN step s ON s.id = t.step_id"
                      + " JOIN pipeline p ON p.id = s.pipeline_id"
                      + " LEFT JOIN resource res ON res.id = t.input_resource_id WHERE t.id = ?")) {
            ps.setLong(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              Step step = new StepCodec().fromRow(rs, rs.getInt(20) != 0);
              String inputHash = rs.getString(18);
              return Optional.of(
                  new TaskSpec(
                      taskId,
                      rs.getLong(12),
                      rs.getString(13),
                      step,
                      rs.getInt(11),
                      TaskState.valueOf(rs.getString(14)),
                      rs.getInt(15),
                      rs.getString(16),
                      rs.getString(17),
                      inputHash == null ? null : Digest.valueOf(inputHash),
                      rs.getString(19)));
            }
          }
        });
  }

  /** One input of a task: a resource, with the bytes' size. */
  public record Input(long resourceId, String name, Digest hash, long size) {}

  /**
   * What a task consumes: nothing for a start step's seed task, its input resource, or every
   * member of a gather task's input set, by name and then hash (the order its script sees them).
   */
  public synchronized List<Input> inputs(long taskId) {
    return sql(
        () -> {
          var out = new ArrayList<Input>();
          try (var ps =
              c.prepareStatement(
                  "SELECT r.id, r.name, r.object_hash, r.size FROM task t JOIN resource r"
                      + " ON r.id = t.input_resource_id WHERE t.id = ?1"
                      + " UNION ALL"
                      + " SELECT r.id, r.name, r.object_hash, r.size FROM task t"
                      + " JOIN input_set_member m ON m.set_id = t.input_set_id"
                      + " JOIN resource r ON r.id = m.resource_id WHERE t.id = ?1"
                      + " ORDER BY 2, 3")) {
            ps.setLong(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new Input(
                        rs.getLong(1), rs.getString(2), Digest.valueOf(rs.getString(3)), rs.getLong(4)));
              }
            }
          }
          return out;
        });
  }

  public synchronized List<AttemptInfo> attempts(long taskId) {
    return sql(
        () -> {
          var out = new ArrayList<AttemptInfo>();
          try (var ps =
              c.prepareStatement(
                  "SELECT n, node, outcome, exit_code, error, log_hash, assigned_at, started_at,"
                      + " finished_at FROM attempt WHERE task_id = ? ORDER BY n")) {
            ps.setLong(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String log = rs.getString(6);
                out.add(
                    new AttemptInfo(
                        taskId,
                        rs.getInt(1),
                        rs.getString(2),
                        AttemptOutcome.valueOf(rs.getString(3)),
                        (Integer) rs.getObject(4),
                        rs.getString(5),
                        log == null ? null : Digest.valueOf(log),
                        rs.getLong(7),
                        nullableLong(rs, 8),
                        nullableLong(rs, 9)));
              }
            }
          }
          return out;
        });
  }

  /**
   * The ended and lost attempts of a run's tasks, in the order they ended, told as the events that
   * announced them (without the count of tasks each created, which the record does not keep): what
   * a watcher that connects late has missed.
   */
  public synchronized List<StateEvent> attemptHistory(long runId) {
    return sql(
        () -> {
          var out = new ArrayList<StateEvent>();
          try (var ps =
                  c.prepareStatement(
                      "SELECT a.task_id, a.n, s.name, a.node, a.outcome, a.error, a.started_at,"
                          + " a.finished_at, t.attempt, t.state"
                          + " FROM attempt a JOIN task t ON t.id = a.task_id"
                          + " JOIN step s ON s.id = t.step_id"
                          + " WHERE t.run_id = ? AND a.outcome IN (?, ?, ?)"
                          + " ORDER BY a.finished_at, a.task_id, a.n");
              var outputs =
                  c.prepareStatement(
                      "SELECT name FROM task_output WHERE task_id = ? AND attempt = ?"
                          + " ORDER BY name")) {
            ps.setLong(1, runId);
            ps.setString(2, AttemptOutcome.SUCCEEDED.name());
            ps.setString(3, AttemptOutcome.FAILED.name());
            ps.setString(4, AttemptOutcome.LOST.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long task = rs.getLong(1);
                int n = rs.getInt(2);
                String node = rs.getString(4);
                AttemptOutcome outcome = AttemptOutcome.valueOf(rs.getString(5));
                String error = rs.getString(6);
                if (outcome == AttemptOutcome.LOST) {
                  out.add(new StateEvent.AttemptLost(task, n, runId, node, error));
                  continue;
                }
                boolean succeeded = outcome == AttemptOutcome.SUCCEEDED;
                TaskState state =
                    succeeded
                        ? TaskState.SUCCEEDED
                        : n == rs.getInt(9) && TaskState.valueOf(rs.getString(10)) == TaskState.FAILED
                            ? TaskState.FAILED
                            : TaskState.PENDING;
                var names = new ArrayList<String>();
                if (succeeded) {
                  outputs.setLong(1, task);
                  outputs.setInt(2, n);
                  try (ResultSet o = outputs.executeQuery()) {
                    while (o.next()) {
                      names.add(o.getString(1));
                    }
                  }
                }
                out.add(
                    new StateEvent.AttemptEnded(
                        task, n, runId, rs.getString(3), node, state, error, names, 0,
                        rs.getLong(8) - rs.getLong(7)));
              }
            }
          }
          return out;
        });
  }

  /** Tasks of a run that ended FAILED, for the run's summary. */
  public synchronized List<TaskRow> failedTasks(long runId) {
    return sql(
        () -> {
          var out = new ArrayList<TaskRow>();
          try (var ps =
              c.prepareStatement(
                  "SELECT t.id, s.name, t.state, t.attempt, res.name, t.error FROM task t"
                      + " JOIN step s ON s.id = t.step_id"
                      + " LEFT JOIN resource res ON res.id = t.input_resource_id"
                      + " WHERE t.run_id = ? AND t.state = ? ORDER BY t.id")) {
            ps.setLong(1, runId);
            ps.setString(2, TaskState.FAILED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new TaskRow(
                        rs.getLong(1),
                        rs.getString(2),
                        TaskState.valueOf(rs.getString(3)),
                        rs.getInt(4),
                        rs.getString(5),
                        rs.getString(6)));
              }
            }
          }
          return out;
        });
  }

  public synchronized Optional<ObjectLayout> object(Digest digest) {
    return sql(
        () -> {
          try (var ps = c.prepareStatement("SELECT size, chunks FROM object WHERE hash = ?")) {
            ps.setString(1, digest.toString());
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              return Optional.of(
                  new ObjectLayout(digest, rs.getLong(1), ChunkList.decode(rs.getBytes(2))));
            }
          }
        });
  }

  private static final String RESOURCE_COLUMNS =
      "SELECT r.id, p.name, r.name, r.object_hash, r.size, r.created_at, r.producer_task"
          + " FROM resource r JOIN pipeline p ON p.id = r.pipeline_id";

  /** Resources named {@code name}, newest first; in one pipeline, or all when it is null. */
  public synchronized List<ResourceRow> resourcesNamed(String name, String pipeline) {
    return resourceRows(
        RESOURCE_COLUMNS
            + " WHERE r.name = ? AND (? IS NULL OR p.name = ?) ORDER BY r.created_at DESC, r.id DESC",
        name,
        pipeline,
        pipeline);
  }

  /** Resources whose bytes are {@code hash}, oldest first; in one pipeline, or all when null. */
  public synchronized List<ResourceRow> resourcesWithHash(Digest hash, String pipeline) {
    return resourceRows(
        RESOURCE_COLUMNS
            + " WHERE r.object_hash = ? AND (? IS NULL OR p.name = ?) ORDER BY r.id",
        hash.toString(),
        pipeline,
        pipeline);
  }

  public synchronized Optional<ResourceRow> resource(long id) {
    return resourceRows(RESOURCE_COLUMNS + " WHERE r.id = ?", Long.toString(id)).stream().findFirst();
  }

  /** The tasks that published the resource (equal bytes under one name, from several), by id. */
  public synchronized List<Long> producers(long resourceId) {
    return ids("SELECT DISTINCT task_id FROM task_output WHERE resource_id = ? ORDER BY task_id", resourceId);
  }

  /** The tasks that consume the resource: as their one input or as a member of their set, by id. */
  public synchronized List<Long> consumers(long resourceId) {
    return ids(
        "SELECT id FROM task WHERE input_resource_id = ?1"
            + " UNION SELECT t.id FROM input_set_member m JOIN task t ON t.input_set_id = m.set_id"
            + " WHERE m.resource_id = ?1 ORDER BY 1",
        resourceId);
  }

  /** The resources the task published, by name. */
  public synchronized List<Long> outputs(long taskId) {
    return ids(
        "SELECT o.resource_id FROM task_output o WHERE o.task_id = ? ORDER BY o.name", taskId);
  }

  private List<Long> ids(String query, long arg) {
    return sql(
        () -> {
          var out = new ArrayList<Long>();
          try (var ps = c.prepareStatement(query)) {
            ps.setLong(1, arg);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(rs.getLong(1));
              }
            }
          }
          return out;
        });
  }

  /** Every resource of a pipeline, by name then hash: what runs produced, comparably. */
  public synchronized List<ResourceRow> resources(String pipeline) {
    return resourceRows(
        RESOURCE_COLUMNS + " WHERE p.name = ? ORDER BY r.name, r.object_hash", pipeline);
  }

  private List<ResourceRow> resourceRows(String sql, String... args) {
    return sql(
        () -> {
          var out = new ArrayList<ResourceRow>();
          try (var ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
              ps.setString(i + 1, args[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new ResourceRow(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        Digest.valueOf(rs.getString(4)),
                        rs.getLong(5),
                        rs.getLong(6),
                        rs.getLong(7)));
              }
            }
          }
          return out;
        });
  }

  /**
   * The pipeline's current resources, by name then hash: what its current step versions made
   * from current inputs, one generation (a gather step's set is drawn from these).
   */
  public synchronized List<dev.grit.engine.plan.InputSet.Member> currentResources(String pipeline) {
    return sql(
        () -> {
          var out = new ArrayList<dev.grit.engine.plan.InputSet.Member>();
          try (var ps =
              c.prepareStatement(
                  ResourceTable.CURRENT
                      + " SELECT r.id, r.name, r.object_hash FROM resource r JOIN cur ON cur.id = r.id"
                      + " WHERE r.pipeline_id = ?1 ORDER BY r.name, r.object_hash")) {
            Long id = pipelineId(pipeline);
            if (id == null) {
              return out;
            }
            ps.setLong(1, id);
            ps.setString(2, TaskState.SUCCEEDED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.add(
                    new dev.grit.engine.plan.InputSet.Member(
                        rs.getLong(1), rs.getString(2), Digest.valueOf(rs.getString(3))));
              }
            }
          }
          return out;
        });
  }

  private Long pipelineId(String pipeline) throws SQLException {
    try (var ps = c.prepareStatement("SELECT id FROM pipeline WHERE name = ?")) {
      ps.setString(1, pipeline);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : null;
      }
    }
  }

  /** The index of the last log entry applied to the record. */
  public synchronized long appliedIndex() {
    return sql(
        () -> {
          try (var ps = c.prepareStatement("SELECT applied_index FROM meta");
              ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1L;
          }
        });
  }

  /** Whether any run, of any pipeline, is still running. */
  public synchronized boolean anyRunRunning() {
    return sql(
        () -> {
          try (var ps = c.prepareStatement("SELECT 1 FROM run WHERE state = ? LIMIT 1")) {
            ps.setString(1, RunState.RUNNING.name());
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next();
            }
          }
        });
  }

  /** The rules version the record follows ({@link dev.grit.engine.command.RulesVersion}). */
  public synchronized int rulesVersion() {
    return sql(
        () -> {
          try (var ps = c.prepareStatement("SELECT rules_version FROM meta");
              ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getInt(1) : dev.grit.engine.command.RulesVersion.INITIAL;
          }
        });
  }

  /** A registered node: where its API answers and how many attempts it runs at once. */
  public record NodeRow(
      String id, String httpAddress, int slots, long registeredAt, int rulesVersion) {}

  public synchronized List<NodeRow> nodes() {
    return sql(
        () -> {
          var out = new ArrayList<NodeRow>();
          try (var ps =
                  c.prepareStatement(
                      "SELECT id, http_address, slots, registered_at, rules_version FROM node"
                          + " ORDER BY id");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.add(
                  new NodeRow(
                      rs.getString(1), rs.getString(2), rs.getInt(3), rs.getLong(4), rs.getInt(5)));
            }
          }
          return out;
        });
  }

  /** Attempts assigned now, by node: what the leader expires when their node goes silent. */
  public synchronized Map<String, List<AttemptRef>> assignedByNode() {
    return sql(
        () -> {
          var out = new HashMap<String, List<AttemptRef>>();
          try (var ps =
              c.prepareStatement("SELECT id, attempt, node FROM task WHERE state = ? ORDER BY id")) {
            ps.setString(1, TaskState.ASSIGNED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.computeIfAbsent(rs.getString(3), k -> new ArrayList<>())
                    .add(new AttemptRef(rs.getLong(1), rs.getInt(2), rs.getString(3)));
              }
            }
          }
          return out;
        });
  }

  /**
   * Chunk digests of up to a page of objects recorded after a row, and the last row read; {@code
   * lastRow} equals the row asked from when no object is left.
   */
  public record ChunksSince(List<Digest> chunks, long lastRow) {}

  /**
   * The chunks of at most {@code objects} objects recorded after row {@code afterRow} (0: from the
   * first), in row order: a repair pass that remembers where it stopped reads only what is new, a
   * page at a time, so neither its memory nor this lock's hold grows with the record.
   */
  public synchronized ChunksSince chunksSince(long afterRow, int objects) {
    return sql(
        () -> {
          var seen = new LinkedHashSet<Digest>();
          long last = afterRow;
          try (var ps =
              c.prepareStatement(
                  "SELECT rowid, chunks FROM object WHERE rowid > ? ORDER BY rowid LIMIT ?")) {
            ps.setLong(1, afterRow);
            ps.setInt(2, objects);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                last = rs.getLong(1);
                seen.addAll(ChunkList.decode(rs.getBytes(2)));
              }
            }
          }
          return new ChunksSince(List.copyOf(seen), last);
        });
  }

  /** Every chunk digest the record points at, each once. */
  public synchronized List<Digest> allChunks() {
    return sql(
        () -> {
          var seen = new java.util.LinkedHashSet<Digest>();
          try (var ps = c.prepareStatement("SELECT chunks FROM object ORDER BY hash");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              seen.addAll(ChunkList.decode(rs.getBytes(1)));
            }
          }
          return List.copyOf(seen);
        });
  }

  /**
   * Whether an object of the record is one of {@code digests} or is made of one: if none is, the
   * record names nothing that needs them. The same test as a Gc's (it scans the objects larger
   * than a chunk): for rare checks.
   */
  public synchronized boolean anyObjectUses(Set<Digest> digests) {
    return sql(
        () -> {
          try (var statements = new Statements(c)) {
            return RetentionRules.unused(statements, digests).size() < digests.size();
          }
        });
  }

  public synchronized long counter(String name) {
    return sql(
        () -> {
          try (var ps = c.prepareStatement("SELECT value FROM counter WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getLong(1) : 0L;
            }
          }
        });
  }

  /** How many attempts of a task succeeded: exactly one for every SUCCEEDED task. */
  public synchronized Map<Long, Integer> successfulAttemptsByTask() {
    return sql(
        () -> {
          var out = new HashMap<Long, Integer>();
          try (var ps =
              c.prepareStatement(
                  "SELECT task_id, COUNT(*) FROM attempt WHERE outcome = ? GROUP BY task_id")) {
            ps.setString(1, AttemptOutcome.SUCCEEDED.name());
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                out.put(rs.getLong(1), rs.getInt(2));
              }
            }
          }
          return out;
        });
  }

  private static Long nullableLong(ResultSet rs, int col) throws SQLException {
    long v = rs.getLong(col);
    return rs.wasNull() ? null : v;
  }

  @Override
  public synchronized void close() {
    try {
      c.close();
    } catch (SQLException ignored) {
      // nothing left to do with a connection that will not close
    }
  }

  private interface SqlCall<T> {
    T call() throws SQLException;
  }

  private static <T> T sql(SqlCall<T> call) {
    try {
      return call.call();
    } catch (SQLException e) {
      throw new IllegalStateException("reading the state database failed: " + e.getMessage(), e);
    }
  }

}
