package dev.grit.consensus.compat;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.failure;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;

import dev.grit.engine.command.Command;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.manifest.Step;
import java.util.ArrayList;
import java.util.List;

/**
 * The history of {@link RecordHistory} and more of what schema version 2 added: nodes announcing
 * the rules version their code supports, a revert to an earlier step version, a fan-out to several
 * resources and a task that fails for good. {@code compat/record-v2.db} is this history applied
 * (term 1, indexes 1..n) by the last release that wrote schema version 2.
 */
final class RecordHistoryV2 {
  private RecordHistoryV2() {}

  static List<Command> entries() {
    var entries = new ArrayList<>(RecordHistory.entries());
    Step gen = step("gen", "printf 'a\\nb\\n' > $OUTPUT_DIR/lines");
    Step split = step("split", "split -l 1 $INPUT_FILE $OUTPUT_DIR/part_", "lines");
    Step count = step("count", "wc -c < $INPUT_FILE > $OUTPUT_DIR/size", "part_*");
    entries.addAll(
        List.of(
            new RegisterNode("n1", "127.0.0.1:7001", 2, 11_000, 2),
            new RegisterNode("n3", "127.0.0.1:7003", 1, 11_001, 2),
            // Back to the first map: a revert; its task exists and nothing reruns.
            submit("req-3", "pipe", 12_000, gen, step("map", "wc -l $INPUT_FILE > $OUTPUT_DIR/count", "lines"), split, count),
            assign(12_100, 4, 1, "n3"),
            results(success(4, 1, "n3", 12_200, output("part_aa", "a\n"), output("part_ab", "b\n"))),
            assign(12_300, 5, 1, "n1"),
            assign(12_301, 6, 1, "n2"),
            results(success(5, 1, "n1", 12_400, output("size", "2\n"))),
            results(failure(6, 1, "n2", 12_500, "exit 2", 0))));
    return entries;
  }
}
