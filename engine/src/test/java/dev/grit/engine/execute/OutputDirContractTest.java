package dev.grit.engine.execute;

import static dev.grit.engine.execute.TestAttempts.bytes;
import static dev.grit.engine.execute.TestAttempts.spec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The same scripts against both kinds of output directory: they must capture the same files. */
class OutputDirContractTest {
  @TempDir static Path tmp;

  private static OutputDir fuse;
  private static String whyNoFuse;
  private static OutputDir plain;
  private static TaskRunner fuseRunner;
  private static TaskRunner plainRunner;

  @BeforeAll
  static void open() throws IOException {
    plain = PlainOutputDir.create(tmp.resolve("plain-outputs"));
    plainRunner = new TaskRunner(plain, tmp.resolve("plain-work"), InstantSource.system());
    try {
      fuse = FuseOutputDir.mount(tmp.resolve("fuse-outputs"));
      fuseRunner = new TaskRunner(fuse, tmp.resolve("fuse-work"), InstantSource.system());
    } catch (IOException e) {
      whyNoFuse = e.getMessage();
      System.out.println("FUSE cases skipped: " + whyNoFuse);
    }
  }

  @AfterAll
  static void close() {
    if (fuse != null) {
      fuse.close();
    }
    plain.close();
  }

  static Stream<String> kinds() {
    return Stream.of("fuse", "plain");
  }

  private static TaskRunner runner(String kind) {
    if (kind.equals("fuse")) {
      assumeTrue(fuse != null, () -> "FUSE cannot be mounted here: " + whyNoFuse);
      return fuseRunner;
    }
    return plainRunner;
  }

  /** Runs a script that must succeed; its outputs, checked, as text by name. */
  private static Map<String, String> outputs(String kind, String script) throws Exception {
    try (RunningAttempt attempt = runner(kind).start(spec("set -e\n" + script))) {
      Map<String, byte[]> files = TestAttempts.read(attempt.await());
      Map<String, String> text = new java.util.LinkedHashMap<>();
      files.forEach((name, data) -> text.put(name, new String(data, StandardCharsets.UTF_8)));
      return text;
    }
  }

  private static AttemptResult failing(String kind, String script) throws Exception {
    try (RunningAttempt attempt = runner(kind).start(spec(script))) {
      AttemptResult result = attempt.await();
      assertFalse(result.succeeded(), "expected a failure");
      assertEquals(List.of(), result.outputs());
      return result;
    }
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void singleFile(String kind) throws Exception {
    assertEquals(Map.of("out", "hello\n"), outputs(kind, "echo hello > $OUTPUT_DIR/out"));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void severalFilesSortedByName(String kind) throws Exception {
    var files =
        outputs(
            kind, "printf c > $OUTPUT_DIR/c; printf a > $OUTPUT_DIR/a; printf b > $OUTPUT_DIR/b");
    assertEquals(List.of("a", "b", "c"), List.copyOf(files.keySet()));
    assertEquals(Map.of("a", "a", "b", "b", "c", "c"), files);
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void nestedDirectoriesGiveSlashNames(String kind) throws Exception {
    var files =
        outputs(
            kind,
            """
            mkdir -p $OUTPUT_DIR/parts && echo x > $OUTPUT_DIR/parts/001
            echo y > $OUTPUT_DIR/parts/002
            mkdir -p $OUTPUT_DIR/a/b/c $OUTPUT_DIR/empty/dir
            echo z > $OUTPUT_DIR/a/b/c/d
            echo top > $OUTPUT_DIR/a-b
            """);
    assertEquals(
        Map.of("a-b", "top\n", "a/b/c/d", "z\n", "parts/001", "x\n", "parts/002", "y\n"), files);
    assertEquals(List.of("a-b", "a/b/c/d", "parts/001", "parts/002"), List.copyOf(files.keySet()));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void emptyFilesAreResources(String kind) throws Exception {
    try (RunningAttempt attempt =
        runner(kind).start(spec(": > $OUTPUT_DIR/empty && touch $OUTPUT_DIR/touched"))) {
      AttemptResult result = attempt.await();
      assertEquals(Map.of("empty", "", "touched", ""), asText(TestAttempts.read(result)));
      for (OutputFile file : result.outputs()) {
        assertEquals(new ObjectLayout(Digest.EMPTY, 0, List.of()), file.layout());
      }
    }
  }

  private static Map<String, String> asText(Map<String, byte[]> files) {
    Map<String, String> text = new java.util.LinkedHashMap<>();
    files.forEach((name, data) -> text.put(name, new String(data, StandardCharsets.UTF_8)));
    return text;
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void rewritingReplacesTheContent(String kind) throws Exception {
    assertEquals(
        Map.of("f", "second\n"),
        outputs(
            kind,
            "echo 'a much longer first version' > $OUTPUT_DIR/f; echo second > $OUTPUT_DIR/f"));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void appendingAddsToTheEnd(String kind) throws Exception {
    assertEquals(
        Map.of("f", "one\ntwo\nthree\n"),
        outputs(
            kind,
            "echo one > $OUTPUT_DIR/f; echo two >> $OUTPUT_DIR/f; echo three >> $OUTPUT_DIR/f"));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void renameKeepsOnlyTheNewName(String kind) throws Exception {
    assertEquals(
        Map.of("final", "x\n", "kept", "new\n"),
        outputs(
            kind,
            """
            echo x > $OUTPUT_DIR/tmp && mv $OUTPUT_DIR/tmp $OUTPUT_DIR/final
            echo old > $OUTPUT_DIR/kept && echo new > $OUTPUT_DIR/other
            mv $OUTPUT_DIR/other $OUTPUT_DIR/kept
            mkdir $OUTPUT_DIR/d1 && echo y > $OUTPUT_DIR/d1/f && mv $OUTPUT_DIR/d1 $OUTPUT_DIR/d2
            rm -r $OUTPUT_DIR/d2
            """));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void scriptsReadBackTheirOwnOutput(String kind) throws Exception {
    assertEquals(
        Map.of("a", "data\n", "b", "data\n", "c", "data\ndata\n", "n", "2\n"),
        outputs(
            kind,
            """
            echo data > $OUTPUT_DIR/a
            cat $OUTPUT_DIR/a > $OUTPUT_DIR/b
            cat $OUTPUT_DIR/a $OUTPUT_DIR/b > $OUTPUT_DIR/c
            wc -l < $OUTPUT_DIR/c | tr -d ' ' > $OUTPUT_DIR/n
            """));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void writesAtOffsetsGiveTheRightDigest(String kind) throws Exception {
    var files =
        outputs(
            kind,
            """
printf aaaaaaaaaa > $OUTPUT_DIR/patched
printf XY | dd of=$OUTPUT_DIR/patched bs=1 seek=4 conv=notrunc 2>/dev/null
printf Z | dd of=$OUTPUT_DIR/holey bs=1 seek=5 2>/dev/null
printf 1234567890 > $OUTPUT_DIR/cut && truncate -s 4 $OUTPUT_DIR/cut
printf 12 > $OUTPUT_DIR/grown && truncate -s 4 $OUTPUT_DIR/grown && printf 3 >> $OUTPUT_DIR/grown
printf 12 > $OUTPUT_DIR/emptied && truncate -s 0 $OUTPUT_DIR/emptied && printf abc >> $OUTPUT_DIR/emptied
""");
    assertEquals("aaaaXYaaaa", files.get("patched"));
    assertEquals("\0\0\0\0\0Z", files.get("holey"));
    assertEquals("1234", files.get("cut"));
    assertEquals("12\0\0" + "3", files.get("grown"));
    assertEquals("abc", files.get("emptied"));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void a20MiBFileHasFiveChunksAndTheDigestOfSha256sum(String kind) throws Exception {
    try (RunningAttempt attempt =
        runner(kind)
            .start(
                spec(
                    "set -e; head -c 20971520 /dev/urandom > $OUTPUT_DIR/big\n"
                        + "cd $OUTPUT_DIR && sha256sum big > big.sha256"))) {
      AttemptResult result = attempt.await();
      Map<String, byte[]> files = TestAttempts.read(result);
      OutputFile big = result.outputs().get(0);
      assertEquals("big", big.name());
      assertEquals(20L << 20, big.size());
      assertEquals(5, big.layout().chunks().size());
      byte[] data = files.get("big");
      for (int i = 0; i < 5; i++) {
        int from = i * ChunkingHasher.CHUNK_SIZE;
        byte[] chunk = Arrays.copyOfRange(data, from, from + ChunkingHasher.CHUNK_SIZE);
        assertEquals(Digest.of(chunk), big.layout().chunks().get(i));
      }
      String sum = new String(files.get("big.sha256"), StandardCharsets.UTF_8);
      assertEquals(big.digest().toString(), sum.substring(0, 64));
    }
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void removedFilesAreNoOutputs(String kind) throws Exception {
    assertEquals(
        Map.of("b", "y\n", "ok", "ok\n"),
        outputs(
            kind,
            """
            echo x > $OUTPUT_DIR/a; echo y > $OUTPUT_DIR/b; rm $OUTPUT_DIR/a
            exec 3> $OUTPUT_DIR/open-then-removed
            rm $OUTPUT_DIR/open-then-removed
            echo still writable >&3
            exec 3>&-
            echo ok > $OUTPUT_DIR/ok
            """));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void commonToolsWork(String kind) throws Exception {
    var files =
        outputs(
            kind,
            """
echo x | tee $OUTPUT_DIR/t > /dev/null
cp $OUTPUT_DIR/t $OUTPUT_DIR/c
chmod 600 $OUTPUT_DIR/c && touch -d '2020-01-02 03:04:05' $OUTPUT_DIR/c
cp -p $OUTPUT_DIR/c $OUTPUT_DIR/p
test "$(stat -c %s $OUTPUT_DIR/p)" = 2
test "$(date -r $OUTPUT_DIR/p +%Y)" = 2020
ls -la $OUTPUT_DIR > /dev/null && df $OUTPUT_DIR > /dev/null
dd if=/dev/zero of=$OUTPUT_DIR/z bs=64k count=3 conv=fsync 2>/dev/null && sync $OUTPUT_DIR/z
ls $OUTPUT_DIR > $OUTPUT_DIR/listing
""");
    assertEquals("c\nlisting\np\nt\nz\n", files.get("listing"));
    assertEquals("x\n", files.get("t"));
    assertEquals("x\n", files.get("c"));
    assertEquals("x\n", files.get("p"));
    assertEquals(3 * 65536, files.get("z").length());
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void aFailingScriptPublishesNothing(String kind) throws Exception {
    AttemptResult result = failing(kind, "echo x > $OUTPUT_DIR/a; echo oops >&2; exit 3");
    assertEquals(3, result.exitCode());
    assertEquals("exit status 3", result.error());
    assertEquals("oops\n", TestAttempts.log(result));
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void symbolicLinksAreNoOutputs(String kind) throws Exception {
    AttemptResult result =
        failing(kind, "set -e; echo x > $OUTPUT_DIR/a; ln -s a $OUTPUT_DIR/link");
    if (kind.equals("fuse")) {
      // Refused as the script makes it.
      assertEquals("exit status 1", result.error());
      assertTrue(
          TestAttempts.log(result).contains("Operation not permitted"), TestAttempts.log(result));
    } else {
      // Found when collecting.
      assertEquals(
          "outputs could not be collected: link is a symbolic link, not a regular file",
          result.error());
    }
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void fifosAreNoOutputs(String kind) throws Exception {
    AttemptResult result = failing(kind, "set -e; mkfifo $OUTPUT_DIR/fifo");
    if (kind.equals("plain")) {
      assertEquals(
          "outputs could not be collected: fifo is a special file, not a regular file",
          result.error());
    } else {
      assertEquals("exit status 1", result.error());
    }
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void aClosedAttemptsKeyStartsEmptyWhenUsedAgain(String kind) throws Exception {
    AttemptSpec first = spec("set -e; test ! -e $OUTPUT_DIR/f; echo one > $OUTPUT_DIR/f");
    AttemptSpec again =
        new AttemptSpec(
            first.taskId(),
            first.attempt(),
            "step",
            "set -e; test ! -e $OUTPUT_DIR/f; echo two > $OUTPUT_DIR/g",
            null,
            null,
            null,
            first.timeout(),
            Map.of());
    for (var spec : List.of(first, again)) {
      try (RunningAttempt attempt = runner(kind).start(spec)) {
        assertEquals(1, TestAttempts.read(attempt.await()).size());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("kinds")
  void outputsStayReadableUntilClose(String kind) throws Exception {
    RunningAttempt attempt = runner(kind).start(spec("echo kept > $OUTPUT_DIR/f"));
    AttemptResult result = attempt.await();
    OutputFile out = result.outputs().get(0);
    assertArrayEquals(bytes("kept\n"), out.readAllBytes());
    attempt.close();
    if (!out.isHeld()) {
      // Gone, or emptied and kept for a later attempt's file.
      assertTrue(
          !java.nio.file.Files.exists(out.staging()) || java.nio.file.Files.size(out.staging()) == 0,
          "the staging file still holds the output");
    }
    attempt.close();
  }
}
