package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.command.Command;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.RulesVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bytes of every command sample as a release wrote them, kept in {@code compat/commands.hex}:
 * a log written by an older release must decode the same forever, and a format change that would
 * alter what is already in logs shows here. The file only grows: {@code
 * -Dgrit.golden.append=true} appends the lines of new samples and refuses to change old ones.
 */
class CommandGoldenBytesTest {
  private static final String FIXTURE = "compat/commands.hex";

  @Test
  void everySampleEncodesToItsGoldenBytesAndDecodesFromThem() throws IOException {
    List<Command> samples = CommandCodecTest.samples();
    List<String> golden = goldenLines();
    if (Boolean.getBoolean("grit.golden.append")) {
      golden = append(golden, samples);
    }
    assertEquals(samples.size(), golden.size(), "golden lines (append new samples' lines)");
    for (int i = 0; i < samples.size(); i++) {
      Command sample = samples.get(i);
      byte[] bytes = HexFormat.of().parseHex(golden.get(i).split(" ")[2]);
      assertEquals(sample, CommandCodec.decode(bytes).command(), "decoding golden line " + i);
      assertEquals(golden.get(i), line(i, sample), "encoding sample " + i);
    }
  }

  @Test
  void theFirstFormatOfRegisterNodeIsReadAsTheInitialRules() {
    // What releases before the rules version wrote, and what a node of initial rules still writes.
    byte[] v1 = HexFormat.of().parseHex(goldenLines().get(10).split(" ")[2]);
    assertEquals(1, v1[1], "format version");
    var node = (RegisterNode) CommandCodec.decode(v1).command();
    assertEquals(RulesVersion.INITIAL, node.rulesVersion());
  }

  private static String line(int i, Command command) {
    return i + " " + command.getClass().getSimpleName() + " "
        + HexFormat.of().formatHex(CommandCodec.encode(command));
  }

  private static List<String> goldenLines() {
    try (InputStream in = CommandGoldenBytesTest.class.getClassLoader().getResourceAsStream(FIXTURE)) {
      if (in == null) {
        return List.of();
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8)
          .lines()
          .filter(l -> !l.isBlank() && !l.startsWith("#"))
          .toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static List<String> append(List<String> golden, List<Command> samples)
      throws IOException {
    var lines = new ArrayList<>(golden);
    for (int i = 0; i < samples.size(); i++) {
      String fresh = line(i, samples.get(i));
      if (i < golden.size()) {
        assertEquals(golden.get(i), fresh, "an existing golden line may not change");
      } else {
        lines.add(fresh);
      }
    }
    Path file = Path.of("src/test/resources", FIXTURE);
    assertTrue(Files.isDirectory(file.getParent()), "run from the consensus module: " + file);
    Files.writeString(
        file,
        "# index, command, hex bytes of its encoding: append only (see CommandGoldenBytesTest)\n"
            + String.join("\n", lines)
            + "\n");
    return lines;
  }
}
