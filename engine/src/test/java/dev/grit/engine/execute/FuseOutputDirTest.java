package dev.grit.engine.execute;

import static dev.grit.engine.execute.TestAttempts.bytes;
import static dev.grit.engine.execute.TestAttempts.spec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.ObjectLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only the FUSE output directory does: the mount itself, sealing, refusals, races. */
class FuseOutputDirTest {
  @TempDir Path tmp;
  private FuseOutputDir fuse;

  @BeforeEach
  void mount() {
    try {
      fuse = FuseOutputDir.mount(tmp.resolve("outputs"));
    } catch (IOException e) {
      System.out.println("FUSE tests skipped: " + e.getMessage());
      assumeTrue(false, "FUSE cannot be mounted here: " + e.getMessage());
    }
  }

  @AfterEach
  void unmount() {
    if (fuse != null) {
      fuse.close();
    }
  }

  @Test
  void mountsAtWorkDirMntAndUnmountsOnClose() throws Exception {
    Path mountPoint = tmp.resolve("outputs").toRealPath().resolve("mnt");
    assertEquals(mountPoint, fuse.mountPoint());
    assertTrue(Mounts.isMounted(mountPoint));
    assertTrue(mountInfoLine(mountPoint).contains(" fuse.grit "), mountInfoLine(mountPoint));
    assertEquals("fuse", fuse.kind());

    fuse.close();
    // close() waits for the unmount; check again with a deadline rather than trusting it blindly.
    TestAttempts.await(
        "the unmount",
        Duration.ofSeconds(10),
        () -> {
          try {
            return !Mounts.isMounted(mountPoint);
          } catch (IOException e) {
            return false;
          }
        });
    assertFalse(Files.exists(tmp.resolve("outputs/staging")));
  }

  private static String mountInfoLine(Path mountPoint) throws IOException {
    return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
        .filter(line -> line.split(" ")[4].equals(mountPoint.toString()))
        .findFirst()
        .orElse("");
  }

  @Test
  void scriptsWriteIntoTheMount() throws Exception {
    TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
    try (RunningAttempt attempt =
        runner.start(
            spec(
                "stat -f -c %T $OUTPUT_DIR > $OUTPUT_DIR/type; echo $OUTPUT_DIR >"
                    + " $OUTPUT_DIR/dir; head -c 200000 /dev/zero > $OUTPUT_DIR/big"))) {
      AttemptResult result = attempt.await();
      Map<String, byte[]> files = TestAttempts.read(result);
      String type = new String(files.get("type")).trim();
      assertTrue(type.startsWith("fuse"), type);
      assertEquals(
          fuse.mountPoint().resolve(attempt.spec().key()) + "\n", new String(files.get("dir")));
      assertEquals(List.of("big", "dir", "type"), List.copyOf(files.keySet()));
      // Small outputs are held in memory; a large one streams into a staging file.
      assertTrue(result.outputs().get(0).staging().startsWith(tmp.resolve("outputs").toRealPath().resolve("staging")));
      assertTrue(result.outputs().get(1).isHeld());
      assertTrue(result.outputs().get(2).isHeld());
    }
  }

  @Test
  void writesFromJavaAtOffsetsAndTruncations() throws Exception {
    try (AttemptOutput output = fuse.create("java-1")) {
      Path file = output.path().resolve("f");
      try (FileChannel channel =
          FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(bytes("0123456789")));
        channel.write(ByteBuffer.wrap(bytes("ab")), 3);
        channel.write(ByteBuffer.wrap(bytes("Z")), 12);
      }
      Files.write(output.path().resolve("g"), bytes("to be emptied"));
      try (FileChannel channel =
          FileChannel.open(output.path().resolve("g"), StandardOpenOption.WRITE)) {
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(bytes("fresh")));
      }
      List<OutputFile> files = output.collect();
      assertEquals(List.of("f", "g"), files.stream().map(OutputFile::name).toList());
      byte[] expected = bytes("012ab56789\0\0Z");
      assertEquals(ObjectLayout.of(expected), files.get(0).layout());
      assertArrayEquals(expected, files.get(0).readAllBytes());
      assertEquals(ObjectLayout.of(bytes("fresh")), files.get(1).layout());
    }
  }

  /**
   * A write-only handle writes past the kernel's page cache; a reader holding the file open must
   * still see the new bytes, not the pages it read before.
   */
  @Test
  void aReaderSeesWhatAWriteOnlyHandleWritesOverPagesItHasRead() throws Exception {
    try (AttemptOutput output = fuse.create("direct-1")) {
      Path file = output.path().resolve("f");
      byte[] first = new byte[3 * OutputFs.MAX_WRITE];
      java.util.Arrays.fill(first, (byte) 'a');
      Files.write(file, first);
      try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
        assertArrayEquals(first, readAll(reader, first.length));
        try (FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
          writer.write(ByteBuffer.wrap(bytes("XYZ")), OutputFs.MAX_WRITE - 1);
          writer.write(ByteBuffer.wrap(bytes("end")), first.length);
        }
        byte[] expected = java.util.Arrays.copyOf(first, first.length + 3);
        System.arraycopy(bytes("XYZ"), 0, expected, OutputFs.MAX_WRITE - 1, 3);
        System.arraycopy(bytes("end"), 0, expected, first.length, 3);
        assertEquals(expected.length, Files.size(file));
        assertArrayEquals(expected, readAll(reader, expected.length));
        assertEquals(ObjectLayout.of(expected), output.collect().get(0).layout());
      }
    }
  }

  private static byte[] readAll(FileChannel channel, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length);
    while (buf.hasRemaining() && channel.read(buf, buf.position()) > 0) {
      // read on: FUSE may answer in pieces
    }
    return buf.array();
  }

  @Test
  void collectSealsTheDirectory() throws Exception {
    try (AttemptOutput output = fuse.create("sealed-1")) {
      Path file = output.path().resolve("f");
      Files.write(file, bytes("before"));
      OutputFile collected = output.collect().get(0);
      IOException refused =
          assertThrows(IOException.class, () -> Files.write(file, bytes("after")));
      assertTrue(String.valueOf(refused.getMessage()).contains("Read-only"), refused.toString());
      assertThrows(IOException.class, () -> Files.write(output.path().resolve("new"), bytes("x")));
      assertEquals(ObjectLayout.of(collected.readAllBytes()), collected.layout());
      assertArrayEquals(bytes("before"), Files.readAllBytes(file));
      assertEquals(List.of(collected), output.collect());
    }
  }

  @Test
  void closingAnAttemptRemovesItsDirectoryAndStagingFiles() throws Exception {
    AttemptOutput output = fuse.create("closed-1");
    Files.write(output.path().resolve("f"), large('x'));
    Path staging = output.collect().get(0).staging();
    assertTrue(Files.exists(staging));
    output.close();
    // Emptied and kept for a later attempt's file, or gone.
    assertTrue(!Files.exists(staging) || Files.size(staging) == 0);
    AttemptOutput later = fuse.create("closed-2");
    Files.write(later.path().resolve("g"), large('y'));
    assertEquals(staging, later.collect().get(0).staging(), "a later file uses it again");
    assertArrayEquals(large('y'), Files.readAllBytes(staging));
    later.close();
    try (var entries = Files.list(fuse.mountPoint())) {
      assertEquals(List.of(), entries.toList());
    }
    assertThrows(IOException.class, output::collect);
  }

  @Test
  void aKeyInUseIsRefused() throws Exception {
    try (AttemptOutput output = fuse.create("dup-1")) {
      assertThrows(IOException.class, () -> fuse.create("dup-1"));
      assertThrows(IllegalArgumentException.class, () -> fuse.create("../x"));
      assertTrue(Files.isDirectory(output.path()));
    }
  }

  @Test
  void theRootTakesNoFilesAndLinksAreRefused() throws Exception {
    TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
    AttemptSpec spec =
        spec(
            """
            echo x > $OUTPUT_DIR/a
            echo stray > $OUTPUT_DIR/../stray && echo root-writable
            mkdir $OUTPUT_DIR/../straydir && echo root-mkdir
            ln $OUTPUT_DIR/a $OUTPUT_DIR/hard && echo hardlinked
            ln -s a $OUTPUT_DIR/soft && echo symlinked
            mkfifo $OUTPUT_DIR/fifo && echo fifo
            rmdir $OUTPUT_DIR && echo removed-own-dir
            ls $OUTPUT_DIR/..
            """);
    AttemptResult result = runner.run(spec);
    String log = TestAttempts.log(result);
    assertTrue(result.succeeded(), log);
    for (String forbidden :
        List.of(
            "root-writable",
            "root-mkdir",
            "hardlinked",
            "symlinked",
            "fifo\n",
            "removed-own-dir")) {
      assertFalse(log.contains(forbidden), log);
    }
    assertTrue(log.contains("Permission denied"), log);
    assertTrue(log.contains("Operation not permitted"), log);
    assertTrue(log.endsWith(spec.key() + "\n"), log);
    assertEquals(List.of("a"), result.outputs().stream().map(OutputFile::name).toList());
  }

  @Test
  void aBackgroundWriterCannotChangeCollectedOutputs() throws Exception {
    TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
    try (RunningAttempt attempt =
        runner.start(
            spec(
                "(while :; do echo x >> $OUTPUT_DIR/bg; done) &\n"
                    + "while [ ! -s $OUTPUT_DIR/bg ]; do :; done"))) {
      AttemptResult result = attempt.await();
      TestAttempts.read(result);
      OutputFile bg = result.outputs().get(0);
      assertTrue(bg.size() > 0);
      // Whatever was still in flight when the writer was killed did not land after collect.
      assertEquals(ObjectLayout.of(bg.readAllBytes()), bg.layout());
    }
  }

  @Test
  void aFullDiskFailsTheWriteWithEnospc() throws Exception {
    fuse.close();
    fuse = null;
    Path small = tmp.resolve("small");
    Files.createDirectories(small);
    Process mount =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small.toString())
            .redirectErrorStream(true)
            .start();
    assumeTrue(mount.waitFor() == 0, "cannot mount a small tmpfs here");
    try {
      fuse = FuseOutputDir.mount(small);
      TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
      AttemptResult result = runner.run(spec("head -c 4194304 /dev/zero > $OUTPUT_DIR/big"));
      assertEquals("exit status 1", result.error(), TestAttempts.log(result));
      assertTrue(
          TestAttempts.log(result).contains("No space left on device"), TestAttempts.log(result));
      // The node's mount survives and serves the next attempt.
      AttemptResult next = runner.run(spec("echo fine > $OUTPUT_DIR/small"));
      assertTrue(next.succeeded(), TestAttempts.log(next));
    } finally {
      if (fuse != null) {
        fuse.close();
        fuse = null;
      }
      new ProcessBuilder("umount", "-l", small.toString()).start().waitFor();
    }
  }

  @Test
  void heldFilesGiveBackTheirMemoryWhenTheirAttemptsClose() throws Exception {
    TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
    for (int i = 0; i < 3; i++) {
      try (RunningAttempt attempt =
          runner.start(
              spec(
                  "echo kept > $OUTPUT_DIR/a; echo gone > $OUTPUT_DIR/b; rm $OUTPUT_DIR/b;"
                      + " echo moved > $OUTPUT_DIR/c; mv $OUTPUT_DIR/c $OUTPUT_DIR/a"))) {
        Map<String, byte[]> files = TestAttempts.read(attempt.await());
        assertEquals(List.of("a"), List.copyOf(files.keySet()));
        assertArrayEquals(bytes("moved\n"), files.get("a"));
        assertTrue(fuse.heldBytes() > 0);
      }
      assertEquals(0, fuse.heldBytes());
    }
  }

  /** A file larger than memory holds, written by a script in small writes. */
  @Test
  void aFileWrittenInSmallWritesMovesToAStagingFileAsItGrows() throws Exception {
    TaskRunner runner = new TaskRunner(fuse, tmp.resolve("work"), InstantSource.system());
    try (RunningAttempt attempt =
        runner.start(
            spec("i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i + 1)); done > $OUTPUT_DIR/log"))) {
      AttemptResult result = attempt.await();
      byte[] log = TestAttempts.read(result).get("log");
      assertTrue(log.length > StagingFiles.MAX_HELD, "larger than memory holds: " + log.length);
      assertFalse(result.outputs().get(0).isHeld());
      assertTrue(new String(log).endsWith("line 19999\n"));
    }
  }

  private static byte[] large(char c) {
    byte[] bytes = new byte[StagingFiles.MAX_HELD + 1000];
    java.util.Arrays.fill(bytes, (byte) c);
    return bytes;
  }
}
