package dev.grit.node;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.RunState;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Manifest;
import dev.grit.engine.manifest.ManifestParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A record read at rest, without its node: only when its last node marked it whole and no process
 * holds the directory, and "nothing to run" only when a submission would change nothing.
 */
class RecordAtRestTest {
  private static final String TOML =
      """
      name = "pipe"

      [[step]]
      name = "gen"
      script = "echo a > $OUTPUT_DIR/a"

      [[step]]
      name = "up"
      inputs = ["a"]
      script = "tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/b"
      """;

  @TempDir Path data;
  private long index;

  private static Manifest manifest(String toml) throws Exception {
    return ManifestParser.parse("pipe.toml", toml, "pipe");
  }

  private static SubmitRun submission(Manifest m, String requestId, long at) {
    return new SubmitRun(requestId, m.name(), "pipe.toml", m.text(), m.steps(), at, null, List.of(), 0);
  }

  private void apply(SqlState state, Command command) throws Exception {
    assertFalse(state.apply(1, ++index, command).skipped());
  }

  /** Runs {@link #TOML} to its end in a record of {@link #data}, then marks it at rest. */
  private void ranToTheEnd() throws Exception {
    SqlState state = SqlState.open(data.resolve("state.db"));
    try {
      apply(state, submission(manifest(TOML), "r1", 1000));
      apply(state, assign(1100, 1, 1, "n1"));
      apply(state, results(success(1, 1, "n1", 1200, output("a", "a\n"))));
      apply(state, assign(1300, 2, 1, "n1"));
      apply(state, results(success(2, 1, "n1", 1400, output("b", "A\n"))));
      assertEquals(RunState.SUCCEEDED, state.queries().run(1).orElseThrow().state());
    } finally {
      state.close();
    }
    RecordAtRest.mark(data, index);
  }

  private boolean nothingToRun(String toml) throws Exception {
    try (var record = RecordAtRest.open(data).orElseThrow()) {
      Manifest m = manifest(toml);
      return record.hasNothingToRun(m, m.name(), null, List.of());
    }
  }

  @Test
  void theManifestThatRanToTheEndHasNothingToRun() throws Exception {
    ranToTheEnd();
    assertTrue(nothingToRun(TOML));
  }

  @Test
  void aChangedStepARemovedStepAGatherStepOrAnotherPipelineHasSomethingToRun() throws Exception {
    ranToTheEnd();
    assertFalse(nothingToRun(TOML.replace("echo a", "echo b")), "a new version of gen");
    assertFalse(nothingToRun(TOML.substring(0, TOML.indexOf("[[step]]\nname = \"up\""))), "up removed");
    assertFalse(
        nothingToRun(TOML + "\n[[step]]\nname = \"all\"\ngather = true\ninputs = [\"b\"]\nscript = \"true\"\n"),
        "a gather step");
    assertFalse(nothingToRun(TOML.replace("name = \"pipe\"", "name = \"other\"")), "another pipeline");
    assertTrue(nothingToRun(TOML), "the record was only read");
  }

  @Test
  void aRunStillGoingOnHasSomethingToRun() throws Exception {
    SqlState state = SqlState.open(data.resolve("state.db"));
    try {
      apply(state, submission(manifest(TOML), "r1", 1000));
      apply(state, assign(1100, 1, 1, "n1"));
    } finally {
      state.close();
    }
    RecordAtRest.mark(data, index);
    assertFalse(nothingToRun(TOML));
  }

  @Test
  void withoutTheMarkWithAMarkOfAnotherIndexOrWhileTheDirectoryIsHeldItIsNotAtRest()
      throws Exception {
    ranToTheEnd();
    long whole = index;
    RecordAtRest.forget(data);
    assertTrue(RecordAtRest.open(data).isEmpty(), "no mark");
    RecordAtRest.mark(data, whole - 1);
    assertTrue(RecordAtRest.open(data).isEmpty(), "a mark of an earlier index");
    Files.writeString(data.resolve("at-rest"), "");
    assertTrue(RecordAtRest.open(data).isEmpty(), "a mark cut short");
    RecordAtRest.mark(data, whole);
    AutoCloseable held = Node.tryLock(data);
    try {
      assertTrue(RecordAtRest.open(data).isEmpty(), "the directory is held");
    } finally {
      held.close();
    }
    try (var record = RecordAtRest.open(data).orElseThrow()) {
      assertTrue(Node.tryLock(data) == null, "the record is read under the directory's lock");
    }
  }
}
