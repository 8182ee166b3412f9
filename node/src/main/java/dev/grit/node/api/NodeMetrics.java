package dev.grit.node.api;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.StateEvent;
import dev.grit.consensus.state.TaskState;
import dev.grit.node.Node;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The node's Prometheus metrics, in a registry of its own (no JVM-global state, so several nodes in
 * one process do not mix). Raft progress, stored bytes, runs by state and event streams are read
 * when scraped; task outcomes and durations are counted from the {@link StateEvent.AttemptEnded}
 * events this node applies, so every member counts every task, and a restarted member counts from
 * zero (Prometheus handles counter resets). Labels never carry ids.
 *
 * <p>Subscribed to the node's event hub: {@link #accept} runs on the apply thread and only bumps
 * counters. Thread-safe.
 */
final class NodeMetrics implements Consumer<List<StateEvent>> {
  static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer =
      PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();
  private final Counter completed;
  private final Histogram duration;
  private final Histogram attemptDuration;

  NodeMetrics(Node node, RunEvents events) {
    var raft = node.raft();
    gauge(
        "grit_raft_has_leader",
        "1 when this member knows a Raft leader, else 0",
        () -> raft.leaderId() == null ? 0 : 1);
    gauge("grit_raft_term", "The Raft term this member is in", raft::currentTerm);
    gauge(
        "grit_raft_commit_index",
        "The highest log index this member knows committed",
        raft::commitIndex);
    gauge(
        "grit_raft_applied_index",
        "The highest log index this member has applied",
        raft::lastAppliedIndex);
    gauge(
        "grit_raft_apply_lag",
        "Committed log entries this member has not applied yet (commit index - applied index)",
        () -> Math.max(0, raft.commitIndex() - raft.lastAppliedIndex()));
    CounterWithCallback.builder()
        .name("grit_raft_leader_changes_total")
        .help("Leader changes this member saw since it started, its first leader included")
        .callback(cb -> cb.call(raft.stateMachine().leaderChanges()))
        .register(registry);
    CounterWithCallback.builder()
        .name("grit_stale_reports_total")
        .help("Attempt reports the record ignored as stale (a lost, ended or reassigned attempt)")
        .callback(cb -> cb.call(node.queries().counter("stale_reports")))
        .register(registry);
    gauge(
        "grit_chunk_repair_backlog",
        "Chunks the record points at that this member lacked and could not fetch in its last"
            + " repair pass",
        () -> node.fetcher().repairBacklog());
    GaugeWithCallback.builder()
        .name("grit_tasks")
        .help("Tasks in the record by state: pending and assigned are the queue")
        .labelNames("state")
        .callback(
            cb -> {
              var counts = node.queries().tasksByState();
              for (TaskState s : TaskState.values()) {
                cb.call(counts.getOrDefault(s, 0), s.name().toLowerCase(Locale.ROOT));
              }
            })
        .register(registry);
    gauge(
        "grit_objects_stored_bytes",
        "Chunk bytes this process stored since it started",
        () -> node.chunks().storedBytes());
    gauge("grit_event_streams", "Event streams this member serves now", events::open);
    CounterWithCallback.builder()
        .name("grit_event_streams_dropped_total")
        .help("Event streams this member ended because their client fell too far behind")
        .callback(cb -> cb.call(events.dropped()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("grit_runs")
        .help("Runs in the record, by state")
        .labelNames("state")
        .callback(
            cb -> {
              var counts = node.queries().runCounts();
              for (RunState s : RunState.values()) {
                cb.call(counts.getOrDefault(s, 0), s.name().toLowerCase(Locale.ROOT));
              }
            })
        .register(registry);
    completed =
        Counter.builder()
            .name("grit_tasks_completed_total")
            .help("Tasks that ended, by outcome (a failed attempt that will retry is not counted)")
            .labelNames("outcome")
            .withoutExemplars()
            .register(registry);
    completed.initLabelValues("succeeded");
    completed.initLabelValues("failed");
    duration =
        Histogram.builder()
            .name("grit_task_duration_seconds")
            .help("How long each ended attempt ran, retried ones included")
            .classicOnly()
            .classicUpperBounds(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
            .withoutExemplars()
            .register(registry);
    attemptDuration =
        Histogram.builder()
            .name("grit_attempt_duration_seconds")
            .help("How long each ended attempt ran, by step name (retried attempts included)")
            .labelNames("step")
            .classicOnly()
            .classicUpperBounds(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600)
            .withoutExemplars()
            .register(registry);
  }

  private void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsLong()))
        .register(registry);
  }

  @Override
  public void accept(List<StateEvent> events) {
    for (StateEvent e : events) {
      if (e instanceof StateEvent.AttemptEnded a) {
        duration.observe(a.durationMillis() / 1000.0);
        attemptDuration.labelValues(a.step()).observe(a.durationMillis() / 1000.0);
        if (a.taskState() == TaskState.SUCCEEDED) {
          completed.labelValues("succeeded").inc();
        } else if (a.taskState() == TaskState.FAILED) {
          completed.labelValues("failed").inc();
        }
      }
    }
  }

  /** The Prometheus text exposition of every metric, read now. */
  byte[] scrape() {
    var out = new ByteArrayOutputStream();
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
