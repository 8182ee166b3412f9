package dev.grit.node.cli;

import dev.grit.node.LogPrinter;
import dev.grit.consensus.raft.CannotListenException;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.RunState;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Lint;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestException;
import dev.grit.engine.manifest.ManifestParser;
import dev.grit.engine.manifest.Problem;
import dev.grit.node.Node;
import dev.grit.node.NodeConfig;
import dev.grit.node.RecordAtRest;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code grit run}: one embedded node runs a manifest to completion. */
@Command(
    name = "run",
    description = "Run a manifest to completion on an embedded single node.",
    mixinStandardHelpOptions = true)
final class RunCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MANIFEST", description = "The pipeline's TOML manifest.")
  Path manifestFile;

  @Mixin DbOption db;

  @Mixin RunFilters filters;

  @Option(
      names = {"--parallel", "-parallel"},
      paramLabel = "N",
      description = "At most N tasks at once (default: the number of CPUs).")
  int parallel;

  @Option(
      names = {"--verbose", "-verbose"},
      description = "Also print each attempt's output.")
  boolean verbose;

  @Option(
      names = {"--quiet", "-quiet"},
      description = "Print only failures.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    PrintStream out = System.out;
    PrintStream err = System.err;
    Manifest manifest;
    try {
      manifest = ManifestParser.parse(manifestFile);
    } catch (ManifestException e) {
      err.println(e.getMessage());
      return Main.USAGE;
    }
    String filterError = checkFilters(manifest);
    if (filterError != null) {
      err.println("grit: " + filterError);
      return Main.USAGE;
    }
    if (parallel < 0) {
      err.println("grit: --parallel must be at least 1");
      return Main.USAGE;
    }
    if (!quiet) {
      for (Problem warning : Lint.warnings(manifest)) {
        err.println("warning: " + warning);
      }
    }
    Progress.Level level =
        quiet ? Progress.Level.QUIET : verbose ? Progress.Level.VERBOSE : Progress.Level.NORMAL;
    int slots = parallel > 0 ? parallel : Runtime.getRuntime().availableProcessors();
    long startedAt = System.nanoTime();
    String pipeline = filters.pipeline != null ? filters.pipeline : manifest.name();
    if (isUpToDate(manifest, pipeline)) {
      if (level != Progress.Level.QUIET) {
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
        out.printf(
            "grit: pipeline %s is up to date: 0 tasks succeeded, 0 failed, in %s (nothing to run,"
                + " no run recorded)%n",
            pipeline, ProgressLines.millis(elapsed));
      }
      return Main.OK;
    }
    InstantSource clock = InstantSource.system();
    Node node = startEmbedded(db.db, slots, clock);
    try {
      var logs = new LogPrinter(node::queries, node.chunks());
      // On a terminal a board of steps, redrawn; else (or --verbose, whose logs would tear it) lines.
      StepBoard board =
          Terminal.interactive() && level == Progress.Level.NORMAL
              ? new StepBoard(
                  manifest.steps().stream().map(dev.grit.engine.manifest.Step::name).toList(),
                  Terminal.color())
              : null;
      var progress = new Progress(out, level, node::queries, logs, board);
      node.events().subscribe(progress);
      var submit =
          new SubmitRun(
              UUID.randomUUID().toString(),
              pipeline,
              manifestFile.toString(),
              manifest.text(),
              manifest.steps(),
              clock.millis(),
              filters.start,
              filters.steps,
              parallel);
      // A node just started raises the rules of gather steps on its first round as leader.
      node.awaitRules(submit.rulesNeeded(), java.time.Duration.ofSeconds(15));
      var reply = node.raft().submit(submit).get(60, TimeUnit.SECONDS);
      if (reply instanceof dev.grit.consensus.state.Reply.SubmissionRefused refused) {
        err.println("grit: " + refused.reason());
        return Main.FAILED;
      }
      long runId = reply.as(RunSubmitted.class).runId();
      if (level != Progress.Level.QUIET) {
        out.printf(
            "grit: pipeline %s, run %d (%d steps, outputs via %s)%n",
            pipeline, runId, manifest.steps().size(), node.outputMode());
      }
      RunState end = progress.follow(runId);
      var run = node.queries().run(runId).orElseThrow();
      long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
      return summarize(run, end, elapsed, node, level, out, err);
    } finally {
      // The process ends after this command.
      node.closeBeforeExit();
      ProcessEnd.endAtOnce();
    }
  }

  private int summarize(
      dev.grit.consensus.state.StateQueries.RunView run,
      RunState end,
      long elapsedMillis,
      Node node,
      Progress.Level level,
      PrintStream out,
      PrintStream err) {
    var tasks = run.tasks();
    int succeeded = tasks.getOrDefault(dev.grit.consensus.state.TaskState.SUCCEEDED, 0);
    int failed = tasks.getOrDefault(dev.grit.consensus.state.TaskState.FAILED, 0);
    if (level != Progress.Level.QUIET) {
      out.println(ProgressLines.summary(run.id(), end.name(), succeeded, failed, elapsedMillis));
    }
    if (end == RunState.SUCCEEDED) {
      return Main.OK;
    }
    if (run.reason() != null) {
      err.println("grit: " + run.reason());
    }
    for (var t : node.queries().failedTasks(run.id())) {
      err.println(
          ProgressLines.failedTask(t.step(), t.taskId(), t.inputName(), t.attempt(), t.error()));
    }
    return Main.FAILED;
  }

  /**
   * Whether the record, at rest, says submitting the manifest would change and run nothing: then
   * the node is not started at all (a rerun answers in the time of {@code grit plan}).
   */
  private boolean isUpToDate(Manifest manifest, String pipeline) throws IOException {
    var record = RecordAtRest.open(db.db);
    if (record.isEmpty()) {
      return false;
    }
    try (var r = record.get()) {
      return r.hasNothingToRun(manifest, pipeline, filters.start, filters.steps);
    }
  }

  private String checkFilters(Manifest manifest) {
    if (filters.start != null && manifest.step(filters.start).isEmpty()) {
      return "--start " + filters.start + ": no such step in " + manifestFile;
    }
    for (String s : filters.steps) {
      if (manifest.step(s).isEmpty()) {
        return "--step " + s + ": no such step in " + manifestFile;
      }
    }
    if (filters.start != null && !filters.steps.isEmpty() && !filters.steps.contains(filters.start)) {
      return "--start " + filters.start + " is not among the --step filters";
    }
    return null;
  }

  /**
   * Starts the embedded node. Its Raft port is picked before Ratis binds it, so another process
   * can take it in between: then the node starts again on a port picked anew.
   */
  private static Node startEmbedded(Path db, int slots, InstantSource clock) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return Node.start(NodeConfig.embedded(db, raftPort(db), slots), clock, Main::fatal);
      } catch (CannotListenException e) {
        if (attempt == 3) {
          throw e;
        }
        Files.deleteIfExists(db.resolve("raft.port"));
      }
    }
  }

  /**
   * The embedded node's Raft port on loopback: the one it used before when still free, so its
   * address stays the same across runs; else a free one.
   */
  static int raftPort(Path db) throws IOException {
    Files.createDirectories(db);
    Path file = db.resolve("raft.port");
    if (Files.exists(file)) {
      try {
        int port = Integer.parseInt(Files.readString(file).trim());
        try (var socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
          return port;
        }
      } catch (IOException | NumberFormatException e) {
        // taken or unreadable: pick another
      }
    }
    int port;
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    Files.writeString(file, port + "\n", StandardCharsets.UTF_8);
    return port;
  }

}
