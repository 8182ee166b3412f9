package dev.grit.node.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code grit} command line. The only place that ends the process with an exit code (at once
 * through {@link ProcessEnd} when it can).
 */
@Command(
    name = "grit",
    mixinStandardHelpOptions = true,
    version = "grit 0.1.0",
    description = "A fault-tolerant pipeline runner for shell-script steps.")
public final class Main implements Callable<Integer> {
  /** The subcommands, in the order the usage lists them. */
  static final List<String> SUBCOMMANDS =
      List.of(
          "run", "node", "submit", "watch", "get", "list", "cancel", "gc", "logs", "export",
          "export-hash", "lineage", "retry", "plan", "cluster", "lint", "tls", "token");

  /** Exit codes, as argo, nomad and etcdctl use them. */
  static final int OK = 0;

  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

  public static void main(String[] args) {
    int code = execute(args);
    ProcessEnd.atOnceIfAsked(code);
    System.exit(code);
  }

  /** Runs the command line and returns its exit code. */
  public static int execute(String... args) {
    String[] translated;
    try {
      translated = GritSpelling.translate(args);
    } catch (GritSpelling.UsageException e) {
      System.err.println("grit: " + e.getMessage());
      System.err.println("usage: grit -manifest FILE -db DIR -run | grit run FILE --db DIR (see grit --help)");
      return USAGE;
    }
    Logging.configure(translated);
    var cli = commandLine(translated);
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("grit: " + e.getMessage());
          return e instanceof ClientException c ? c.exitCode() : FAILED;
        });
    return cli.execute(translated);
  }

  /**
   * The command line for {@code args}. picocli reflects over every subcommand it is given, which
   * took most of the time of a short command such as {@code grit lint}: when the first argument
   * names a subcommand, only that one is added; otherwise (usage, help, a mistyped name) all are.
   */
  static CommandLine commandLine(String[] args) {
    var cli = new CommandLine(new Main());
    if (args.length > 0 && SUBCOMMANDS.contains(args[0])) {
      cli.addSubcommand(args[0], subcommand(args[0]));
    } else {
      SUBCOMMANDS.forEach(name -> cli.addSubcommand(name, subcommand(name)));
    }
    return cli;
  }

  /** A new instance of the subcommand {@code name} (one of {@link #SUBCOMMANDS}). */
  static Object subcommand(String name) {
    return switch (name) {
      case "run" -> new RunCommand();
      case "node" -> new NodeCommand();
      case "submit" -> new SubmitCommand();
      case "watch" -> new WatchCommand();
      case "get" -> new GetCommand();
      case "list" -> new ListCommand();
      case "cancel" -> new CancelCommand();
      case "gc" -> new GcCommand();
      case "logs" -> new LogsCommand();
      case "export" -> new ExportCommand();
      case "export-hash" -> new ExportHashCommand();
      case "lineage" -> new LineageCommand();
      case "retry" -> new RetryCommand();
      case "plan" -> new PlanCommand();
      case "cluster" -> new ClusterCommand();
      case "lint" -> new LintCommand();
      case "tls" -> new TlsCommand();
      case "token" -> new TokenCommand();
      default -> throw new IllegalArgumentException("no subcommand " + name);
    };
  }

  /**
   * The replica can no longer apply the log (see {@link
   * dev.grit.consensus.raft.FatalErrorHandler}): stop at once, without running shutdown code that
   * could still act on a state that is now wrong. Exit status 70 (EX_SOFTWARE).
   */
  static void fatal(String what, Throwable cause) {
    System.err.println("grit: fatal: " + what + ": " + cause);
    Runtime.getRuntime().halt(70);
  }

  /** Given to any command: no colours, as when {@code NO_COLOR} is set. */
  @Option(
      names = "--no-color",
      scope = ScopeType.INHERIT,
      description = "No colours in the output (also: the NO_COLOR environment variable).")
  void noColor(boolean noColor) {
    if (noColor) {
      Terminal.disableColor();
    }
  }

  @Override
  public Integer call() {
    commandLine(new String[0]).usage(System.err);
    return USAGE;
  }
}
