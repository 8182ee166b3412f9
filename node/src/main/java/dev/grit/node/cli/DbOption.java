package dev.grit.node.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --db DIR} option every local command shares. */
final class DbOption {
  @Option(
      names = {"--db", "-db"},
      paramLabel = "DIR",
      defaultValue = "./db",
      description = "Data directory of the embedded node (default: ${DEFAULT-VALUE}).")
  Path db;

  Path stateFile() {
    return db.resolve("state.db");
  }

  Path objects() {
    return db.resolve("objects");
  }
}
