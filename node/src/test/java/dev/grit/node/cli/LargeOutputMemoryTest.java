package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.testing.Grit;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An output several times the heap is stored with the heap it has: its chunks stream through the
 * log a few entries at a time and nothing keeps their bytes once they are stored.
 */
@Tag("slow")
class LargeOutputMemoryTest {
  private static final int HEAP_MIB = 96;
  private static final int OUTPUT_MIB = 4 * HEAP_MIB;

  @TempDir Path dir;

  @Test
  void anOutputFourTimesTheHeapIsStored() throws Exception {
    Path big = dir.resolve("big");
    String expected = writeRandom(big, OUTPUT_MIB);
    Files.writeString(
        dir.resolve("big.toml"),
        """
        [[step]]
        name = "big"
        env = { BIG = "%s" }
        script = 'cat "$BIG" > "$OUTPUT_DIR/big"'
        """
            .formatted(big));
    var grit =
        new Grit(
            dir,
            Map.of(
                "GRIT_OUTPUT", "plain",
                // The child JVM's heap; an OutOfMemoryError ends it at once instead of leaving
                // the run to wait on a thread that died.
                "JAVA_TOOL_OPTIONS", "-Xmx" + HEAP_MIB + "m -XX:+ExitOnOutOfMemoryError"));
    var run = grit.run("run", "big.toml", "--db", "db", "--quiet");
    assertEquals(0, run.exit(), run.toString());

    var export = grit.run("export", "big", "--db", "db");
    assertEquals(0, export.exit(), export.toString());
    assertTrue(export.out().startsWith(expected + "\tbig\t"), export.out());
  }

  /** Distinct random chunks (no two alike, so none is stored only once); returns the SHA-256. */
  private static String writeRandom(Path file, int mib) throws Exception {
    var sha = MessageDigest.getInstance("SHA-256");
    var random = new Random(7);
    byte[] block = new byte[1 << 20];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (int i = 0; i < mib; i++) {
        random.nextBytes(block);
        sha.update(block);
        out.write(block);
      }
    }
    return HexFormat.of().formatHex(sha.digest());
  }
}
