package dev.grit.node.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Accepts the GRIT tool's command line ({@code grit -manifest m.toml -db ./db -run}, Go-style
 * flags with one or two dashes and {@code -flag=value}) by rewriting it into grit's subcommands.
 */
final class GritSpelling {
  private static final Set<String> ACTIONS = Set.of("manifest", "run", "export", "export-hash");
  private static final Set<String> WITH_VALUE =
      Set.of("manifest", "db", "parallel", "start", "step", "export", "export-hash");
  private static final Set<String> SWITCHES = Set.of("run", "verbose", "quiet");

  private GritSpelling() {}

  static String[] translate(String[] args) {
    if (args.length == 0 || !isGritStyle(args)) {
      return args;
    }
    String manifest = null;
    String db = null;
    String export = null;
    String exportHash = null;
    boolean run = false;
    var flags = new ArrayList<String>();
    for (int i = 0; i < args.length; i++) {
      String flag = flagName(args[i]);
      String value = null;
      int eq = flag == null ? -1 : flag.indexOf('=');
      if (eq >= 0) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      }
      if (flag == null || !(WITH_VALUE.contains(flag) || SWITCHES.contains(flag))) {
        return usageError("unknown flag " + args[i]);
      }
      if (WITH_VALUE.contains(flag) && value == null) {
        if (i + 1 >= args.length) {
          return usageError("flag -" + flag + " needs a value");
        }
        value = args[++i];
      }
      switch (flag) {
        case "manifest" -> manifest = value;
        case "db" -> db = value;
        case "export" -> export = value;
        case "export-hash" -> exportHash = value;
        case "run" -> run = true;
        case "verbose", "quiet" -> flags.add("--" + flag);
        default -> {
          flags.add("--" + flag);
          flags.add(value);
        }
      }
    }
    var out = new ArrayList<String>();
    if (run) {
      if (manifest == null) {
        return usageError("-run needs -manifest FILE");
      }
      out.addAll(List.of("run", manifest));
      out.addAll(flags);
    } else if (export != null) {
      out.addAll(List.of("export", export));
    } else if (exportHash != null) {
      out.addAll(List.of("export-hash", exportHash));
    } else {
      return usageError("nothing to do: add -run, -export NAME or -export-hash HASH");
    }
    if (db != null) {
      out.addAll(List.of("--db", db));
    }
    return out.toArray(String[]::new);
  }

  private static boolean isGritStyle(String[] args) {
    for (String a : args) {
      String flag = flagName(a);
      if (a.startsWith("-") && !a.startsWith("--") && flag != null) {
        String name = flag.contains("=") ? flag.substring(0, flag.indexOf('=')) : flag;
        if (ACTIONS.contains(name)) {
          return true;
        }
      }
    }
    return false;
  }

  /** "-db", "--db" and "-db=x" name the flag "db" (with "=x"); anything else is not a flag. */
  private static String flagName(String arg) {
    if (arg.startsWith("--") && arg.length() > 2) {
      return arg.substring(2);
    }
    if (arg.startsWith("-") && arg.length() > 1) {
      return arg.substring(1);
    }
    return null;
  }

  private static String[] usageError(String message) {
    throw new UsageException(message);
  }

  /** A GRIT-style command line that cannot be understood. */
  static final class UsageException extends IllegalArgumentException {
    UsageException(String message) {
      super(message);
    }
  }
}
