package dev.grit.node.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code grit} command line. The only place that ends the process with an exit code. */
@Command(
    name = "grit",
    mixinStandardHelpOptions = true,
    version = "grit 0.1.0",
    description = "A fault-tolerant pipeline runner for shell-script steps.",
    subcommands = {
      RunCommand.class,
      NodeCommand.class,
      SubmitCommand.class,
      WatchCommand.class,
      GetCommand.class,
      ListCommand.class,
      CancelCommand.class,
      GcCommand.class,
      LogsCommand.class,
      ExportCommand.class,
      ExportHashCommand.class,
      LineageCommand.class,
      ClusterCommand.class,
      LintCommand.class,
      TlsCommand.class,
      TokenCommand.class,
    })
public final class Main implements Callable<Integer> {
  /** Exit codes, as argo, nomad and etcdctl use them. */
  static final int OK = 0;

  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int UNREACHABLE = 3;

  public static void main(String[] args) {
    System.exit(execute(args));
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
    var cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          cmd.getErr().println("grit: " + e.getMessage());
          return e instanceof ClientException c ? c.exitCode() : FAILED;
        });
    return cli.execute(translated);
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

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return USAGE;
  }
}
