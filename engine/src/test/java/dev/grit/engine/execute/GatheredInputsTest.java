package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.engine.execute.GatheredInputs.Input;
import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A gather task's $INPUT_DIR and $INPUT_LIST, and what its script sees of them. */
class GatheredInputsTest {
  @TempDir Path tmp;

  private final Map<Digest, byte[]> objects = new HashMap<>();

  private Input input(String name, String content) {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    Digest d = Digest.of(bytes);
    objects.put(d, bytes);
    return new Input(name, d);
  }

  /** Writes the bytes: what a node does by a hard link to its shared copy. */
  private void place(Input input, Path target) throws IOException {
    Files.write(target, objects.get(input.hash()));
    target.toFile().setReadOnly();
  }

  private static List<String> paths(Input... inputs) throws IOException {
    return GatheredInputs.paths(List.of(inputs));
  }

  @Test
  void everyInputIsUnderItsNameAndOnlyCollisionsAreRenamed() throws Exception {
    Input a = input("a", "1");
    Input nested = input("counts/chunk_1", "2");
    assertEquals(List.of("a", "counts/chunk_1"), paths(a, nested));

    // Two inputs of one name (different bytes): each as name@sha256.
    Input one = input("counts", "1");
    Input two = input("counts", "2");
    var sorted = List.of(one, two).stream().sorted(java.util.Comparator.comparing(Input::hash)).toList();
    assertEquals(
        List.of("counts@" + sorted.get(0).hash(), "counts@" + sorted.get(1).hash()),
        GatheredInputs.paths(sorted));

    // A name another input needs as a directory.
    Input dir = input("x", "file");
    Input under = input("x/y", "below");
    assertEquals(List.of("x@" + dir.hash(), "x/y"), paths(dir, under));

    // A resource named like another's renamed place cannot share the directory with it.
    Input tricky = input("counts@" + one.hash(), "3");
    var e = assertThrows(IOException.class, () -> paths(one, two, tricky));
    assertTrue(e.getMessage().contains("cannot be placed"), e.getMessage());
  }

  @Test
  void aGatherScriptSeesTheDirectoryAndTheSortedListAndNoSingleInput() throws Exception {
    var inputs =
        List.of(
            input("counts/b", "2\n"),
            input("counts/a", "1\n"),
            input("tab\there", "3\n"),
            input("top", "4\n"));
    try (var outputs = OutputDir.open(tmp.resolve("outputs"), OutputMode.PLAIN);
        var gathered = GatheredInputs.prepare(tmp.resolve("inputs"), "9-1", inputs, this::place)) {
      var runner = new TaskRunner(outputs, tmp.resolve("work"), InstantSource.system());
      var spec =
          new AttemptSpec(
              9,
              1,
              "total",
              """
              printf 'INPUT_FILE=%s GRIT_INPUT_NAME=%s\\n' "$INPUT_FILE" "$GRIT_INPUT_NAME" > $OUTPUT_DIR/env
              cut -f1,2 "$INPUT_LIST" > $OUTPUT_DIR/names
              cat "$INPUT_DIR/counts/a" "$INPUT_DIR/counts/b" "$INPUT_DIR/top" > $OUTPUT_DIR/joined
              cut -f3 "$INPUT_LIST" | while read -r p; do test -f "$p" || printf "missing %s\\n" "$p"; done > $OUTPUT_DIR/check
              """,
              null,
              null,
              null,
              gathered,
              Duration.ofSeconds(30),
              Map.of());
      Map<String, byte[]> files;
      try (RunningAttempt attempt = runner.start(spec)) {
        files = TestAttempts.read(attempt.await());
      }
      assertEquals("INPUT_FILE= GRIT_INPUT_NAME=\n", text(files.get("env")));
      assertEquals(
          "counts/a\t"
              + Digest.of("1\n".getBytes())
              + "\ncounts/b\t"
              + Digest.of("2\n".getBytes())
              + "\ntab\\there\t"
              + Digest.of("3\n".getBytes())
              + "\ntop\t"
              + Digest.of("4\n".getBytes())
              + "\n",
          text(files.get("names")));
      assertEquals("1\n2\n4\n", text(files.get("joined")));
      // The escaped path of "tab\there" is not a file as read literally; every other is.
      assertEquals(
          "missing " + gathered.dir().resolve("tab\\there") + "\n", text(files.get("check")));
      assertEquals(
          "r-xr-xr-x",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(gathered.dir().resolve("counts"))));
      assertFalse(Files.isWritable(gathered.list()) && !isRoot(), "the list is read-only");
    }
    assertFalse(Files.exists(tmp.resolve("inputs/9-1")), "closing removes the directory");
    assertFalse(Files.exists(tmp.resolve("inputs/9-1.list")), "and the list");
  }

  @Test
  void aFailedPreparationLeavesNothingBehind() throws Exception {
    Input a = input("a", "1");
    Input b = input("b", "2");
    var e =
        assertThrows(
            IOException.class,
            () ->
                GatheredInputs.prepare(
                    tmp.resolve("inputs"),
                    "3-1",
                    List.of(a, b),
                    (in, target) -> {
                      if (in.name().equals("b")) {
                        throw new IOException("no bytes for b");
                      }
                      place(in, target);
                    }));
    assertEquals("no bytes for b", e.getMessage());
    assertFalse(Files.exists(tmp.resolve("inputs/3-1")));
    assertFalse(Files.exists(tmp.resolve("inputs/3-1.list")));
  }

  private static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
