package dev.grit.node.cli;

import java.util.Arrays;

/** Log levels for a command-line process: quiet unless asked, since stdout is for results. */
final class Logging {
  /** Held so the configured level is not garbage-collected with its logger. */
  private static java.util.logging.Logger grpc;

  private Logging() {}

  static void configure(String[] args) {
    boolean verbose = Arrays.asList(args).contains("--verbose");
    String command = args.length > 0 ? args[0] : "";
    // A node is a server: its log is read by operators, and tells of joins, hand-overs, repairs.
    boolean server = command.equals("node");
    setDefault("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setDefault("org.slf4j.simpleLogger.log.dev.grit", verbose || server ? "info" : "warn");
    // Ratis logs every election and segment roll at INFO; only problems matter here.
    setDefault("org.slf4j.simpleLogger.log.org.apache.ratis", verbose ? "warn" : "error");
    // Ratis's client logs every failed try of a proposal at ERROR, though it tries again: a
    // leader change prints a screen of NotLeader lines for proposals that then succeed. A
    // proposal that fails for good reaches grit as an exception, reported where it matters.
    setDefault("org.slf4j.simpleLogger.log.org.apache.ratis.client.impl.OrderedAsync", verbose ? "error" : "off");
    // Times only where lines are many: the date format costs every start some 20 ms of CPU.
    setDefault("org.slf4j.simpleLogger.showDateTime", Boolean.toString(verbose || server));
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    setDefault("org.slf4j.simpleLogger.showThreadName", "false");
    setDefault("org.slf4j.simpleLogger.logFile", "System.err");
    if (server || command.equals("run")) {
      // Ratis's shaded gRPC logs through java.util.logging, which only these start (setting up
      // java.util.logging costs the other commands time for nothing).
      grpc = java.util.logging.Logger.getLogger("org.apache.ratis.thirdparty.io.grpc");
      grpc.setLevel(verbose ? java.util.logging.Level.WARNING : java.util.logging.Level.SEVERE);
    }
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
