package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grit.node.testing.Grit;
import dev.grit.node.testing.MainCommand;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit run} on a terminal (a pseudo-terminal from util-linux's {@code script}) draws the
 * board of steps, redrawn in place; off a terminal it prints one line per attempt, no escapes.
 */
class RunBoardTest {
  @TempDir Path dir;

  static final String MANIFEST =
      """
      [[step]]
      name = "start"
      script = "echo a > $OUTPUT_DIR/part_1; echo b > $OUTPUT_DIR/part_2"

      [[step]]
      name = "upper"
      inputs = ["part_*"]
      script = "tr a-z A-Z < $INPUT_FILE > $OUTPUT_DIR/up_$GRIT_INPUT_NAME"
      """;

  @Test
  void aTerminalGetsTheBoardAndAPipeGetsLines() throws Exception {
    Path script = Path.of("/usr/bin/script");
    assumeTrue(Files.isExecutable(script), "script (util-linux) gives the pseudo-terminal");
    Path m = dir.resolve("board.toml");
    Files.writeString(m, MANIFEST);
    var words = new ArrayList<>(MainCommand.of(List.of()));
    words.addAll(List.of("run", m.toString(), "--db", dir.resolve("db").toString()));
    String command = String.join(" ", words);
    Path typescript = dir.resolve("typescript");
    var pb =
        new ProcessBuilder(script.toString(), "-qec", command, typescript.toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("script.out").toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment().remove("NO_COLOR");
    Process p = pb.start();
    assertTrue(p.waitFor(180, TimeUnit.SECONDS), "grit run on a terminal ended");
    String out = Files.readString(typescript, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("\u001b[2K  start ["), out);
    assertTrue(out.contains("\u001b[2F"), "the board is redrawn over its two lines: " + out);
    assertTrue(out.contains("  upper [####################] 2/2 \u001b[32m✓2\u001b[0m"), out);
    assertTrue(out.contains("succeeded: 3 tasks succeeded, 0 failed"), out);

    Grit.Result piped =
        new Grit(dir, Map.of()).run("run", m.toString(), "--db", dir.resolve("db2").toString());
    assertEquals(0, piped.exit(), piped::toString);
    assertFalse(piped.out().contains("\u001b"), piped::toString);
    assertTrue(piped.out().contains("✓ upper #"), piped::toString);
  }
}
