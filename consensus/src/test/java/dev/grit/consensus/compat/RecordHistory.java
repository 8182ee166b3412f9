package dev.grit.consensus.compat;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.cancel;
import static dev.grit.consensus.testing.TestCommands.expire;
import static dev.grit.consensus.testing.TestCommands.failure;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static dev.grit.consensus.testing.TestCommands.withRetries;

import dev.grit.engine.command.Command;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.manifest.Step;
import java.time.Duration;
import java.util.List;

/**
 * A short history that touches every table: two nodes register, a two-step run fans out,
 * succeeds, fails and retries, loses an attempt, and a second run is cancelled. The record in
 * {@code compat/record-v1.db} is this history applied (term 1, indexes 1..n) by the first release
 * that wrote schema version 1, kept to prove newer code still opens and extends such a record.
 */
final class RecordHistory {
  private RecordHistory() {}

  static List<Command> entries() {
    Step gen = step("gen", "printf 'a\\nb\\n' > $OUTPUT_DIR/lines");
    Step map = withRetries(step("map", "wc -l $INPUT_FILE > $OUTPUT_DIR/count", "lines"), 1,
        Duration.ofSeconds(1));
    return List.of(
        // The first release's nodes knew only the initial rules.
        new RegisterNode("n1", "127.0.0.1:7001", 2, 1_000, RulesVersion.INITIAL),
        new RegisterNode("n2", "127.0.0.1:7002", 4, 1_001, RulesVersion.INITIAL),
        submit("req-1", "pipe", 2_000, gen, map),
        assign(2_100, 1, 1, "n1"),
        results(success(1, 1, "n1", 2_200, output("lines", "a\nb\n"))),
        assign(2_300, 2, 1, "n2"),
        results(failure(2, 1, "n2", 2_400, "exit 1", 250)),
        assign(4_000, 2, 2, "n1"),
        expire(9_000, 2, 2, "node n1 silent for 30s"),
        assign(9_100, 2, 3, "n2"),
        results(success(2, 3, "n2", 9_200, output("count", "2 lines\n"))),
        submit("req-2", "pipe", 10_000, gen, step("map", "wc -w $INPUT_FILE > $OUTPUT_DIR/count", "lines")),
        assign(10_100, 3, 1, "n2"),
        cancel(2, 10_200));
  }
}
