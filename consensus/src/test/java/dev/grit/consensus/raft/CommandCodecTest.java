package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.Command;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.Gc;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.RaiseRulesVersion;
import dev.grit.engine.command.RegisterNode;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.RetryTasks;
import dev.grit.engine.command.ReportResults.Output;
import dev.grit.engine.command.ReportResults.Report;
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CommandCodecTest {

  private static final Step GEN =
      new Step(
          "gen",
          "for i in 1 2 3; do echo $i > $OUTPUT_DIR/chunk_$i; done\n",
          List.of(),
          Step.UNLIMITED,
          0,
          Duration.ofSeconds(1),
          Duration.ZERO,
          Map.of(),
          0,
          3);

  private static final Step MAP =
      new Step(
          "map",
          "tr a-z A-Z < \"$INPUT_FILE\" > $OUTPUT_DIR/out\n",
          List.of("chunk_*", "parts/**", "x?"),
          4,
          2,
          Duration.ofMillis(1500),
          Duration.ofMinutes(10),
          Map.of("LANG", "C", "GREETING", "héllo wörld ✓", "EMPTY", ""),
          -7,
          12);

  private static final Step TOTAL =
      new Step(
          "total",
          "cut -f3 \"$INPUT_LIST\" | xargs cat > $OUTPUT_DIR/total\n",
          List.of("counts/*"),
          true,
          1,
          0,
          Duration.ofSeconds(1),
          Duration.ZERO,
          Map.of(),
          0,
          20);

  private static final byte[] SMALL = "hello, chunk".getBytes(StandardCharsets.UTF_8);

  /** A layout of three chunks whose object digest differs from every chunk's. */
  private static final ObjectLayout MULTI =
      new ObjectLayout(
          Digest.of(new byte[] {1}),
          3 * 4L * 1024 * 1024 + 5,
          List.of(Digest.of(new byte[] {2}), Digest.of(new byte[] {3}), Digest.of(new byte[] {4})));

  static List<Command> samples() {
    return List.of(
        new SubmitRun(
            "req-1",
            "pipe",
            "workflow.toml",
            "[[step]]\nname = \"gen\"\n",
            List.of(GEN, MAP),
            1_700_000_000_000L,
            null,
            List.of(),
            0),
        new SubmitRun(
            "req-2",
            "pipe",
            "workflow.toml",
            "",
            List.of(MAP),
            5L,
            "map",
            List.of("map", "gen"),
            3),
        new AssignTasks(
            42L,
            List.of(
                new AssignTasks.Assignment(1, 1, "n1"),
                new AssignTasks.Assignment(Long.MAX_VALUE, Integer.MAX_VALUE, "node-ü"))),
        new AssignTasks(0, List.of()),
        new PutChunks(
            List.of(
                new PutChunks.Chunk(Digest.of(SMALL), SMALL.length),
                new PutChunks.Chunk(Digest.EMPTY, 0))),
        new PutChunks(List.of()),
        new ReportResults(
            List.of(
                new Report(
                    7,
                    2,
                    "n2",
                    0,
                    null,
                    List.of(
                        new Output("chunk_1", ObjectLayout.of(SMALL)),
                        new Output("parts/001", MULTI),
                        new Output("empty", ObjectLayout.of(new byte[0]))),
                    ObjectLayout.of("log tail".getBytes(StandardCharsets.UTF_8)),
                    100,
                    200,
                    0),
                new Report(
                    8,
                    1,
                    "n3",
                    137,
                    "killed by signal 9",
                    List.of(),
                    ObjectLayout.of(new byte[0]),
                    -1,
                    Long.MAX_VALUE,
                    999))),
        new ReportResults(List.of()),
        new ExpireAttempts(
            99,
            List.of(
                new ExpireAttempts.Expiry(3, 1, "node n1 silent for 30s"),
                new ExpireAttempts.Expiry(4, 7, ""))),
        new CancelRun(12, 1234),
        // What releases before the rules version wrote (format 1), as a node of initial rules does.
        new RegisterNode("n2", "127.0.0.1:8082", 4, 1234, RulesVersion.INITIAL),
        new RegisterNode("local", "", 1, 0, RulesVersion.INITIAL),
        new RegisterNode("n3", "127.0.0.1:8083", 2, 99, 2),
        new RaiseRulesVersion(2, 4321),
        // A manifest with a gather step: format 2, a flags byte per step.
        new SubmitRun(
            "req-3",
            "pipe",
            "wordcount.toml",
            "[[step]]\nname = \"total\"\n",
            List.of(GEN, MAP, TOTAL),
            1_700_000_000_001L,
            null,
            List.of("total"),
            0),
        new Gc(1_700_000_000_000L - 30L * 24 * 3600 * 1000, 1_700_000_000_000L),
        new Gc(0, Long.MAX_VALUE),
        // Rules version 4: a run's failed and cancelled tasks again, or one task of it.
        new RetryTasks(12, RetryTasks.ALL, 1_700_000_000_002L),
        new RetryTasks(12, 7, 99));
  }

  @Test
  void everyCommandTypeRoundTrips() {
    var seen = new java.util.HashSet<Class<?>>();
    for (Command command : samples()) {
      byte[] encoded = CommandCodec.encode(command);
      CommandCodec.Decoded decoded = CommandCodec.decode(encoded);
      assertEquals(command, decoded.command(), "round trip of " + command);
      assertEquals(encoded.length, decoded.headerLength(), "header length of " + command);
      assertArrayEquals(encoded, CommandCodec.encode(decoded.command()), "re-encoding " + command);
      seen.add(command.getClass());
    }
    assertEquals(Command.class.getPermittedSubclasses().length, seen.size(), "types covered");
  }

  @Test
  void aSubmissionWithoutGatherStepsKeepsTheFirstFormatAndOneWithThemTheSecond() {
    // Members of earlier releases read only format 1: what they could meet must stay in it.
    assertEquals(1, CommandCodec.encode(samples().get(0))[1]);
    assertEquals(1, CommandCodec.encode(samples().get(1))[1]);
    byte[] gathering = CommandCodec.encode(samples().get(14));
    assertEquals(2, gathering[1]);
    var decoded = (SubmitRun) CommandCodec.decode(gathering).command();
    assertEquals(List.of(false, false, true), decoded.steps().stream().map(Step::gather).toList());
  }

  @Test
  void unknownStepFlagsAreAnIllegalArgument() {
    byte[] gathering = CommandCodec.encode(samples().get(14));
    // The last step's flags byte ends the entry.
    assertEquals(1, gathering[gathering.length - 1]);
    gathering[gathering.length - 1] = 3;
    var e = assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(gathering));
    assertEquals(true, e.getMessage().contains("unknown step flags 3"), e.getMessage());
  }

  @Test
  void putChunksDataAfterTheHeaderIsNotPartOfTheCommand() {
    var header =
        new PutChunks(
            List.of(
                new PutChunks.Chunk(Digest.of(SMALL), SMALL.length),
                new PutChunks.Chunk(Digest.of(new byte[] {9}), 1)));
    byte[] encoded = CommandCodec.encode(header);
    byte[] withData = Arrays.copyOf(encoded, encoded.length + SMALL.length + 1);
    System.arraycopy(SMALL, 0, withData, encoded.length, SMALL.length);
    withData[withData.length - 1] = 9;

    CommandCodec.Decoded decoded = CommandCodec.decode(withData);

    assertEquals(header, decoded.command());
    assertEquals(encoded.length, decoded.headerLength());
    assertEquals(SMALL.length + 1, ((PutChunks) decoded.command()).totalBytes());
  }

  @Test
  void nullStartStepAndNullErrorSurvive() {
    var submit = (SubmitRun) samples().get(0);
    assertNull(submit.startStep());
    assertNull(((SubmitRun) roundTrip(submit)).startStep());

    var success = new ReportResults(List.of(((ReportResults) samples().get(6)).reports().get(0)));
    Report decoded = ((ReportResults) roundTrip(success)).reports().get(0);
    assertNull(decoded.error());
    assertEquals(true, decoded.succeeded());
  }

  @Test
  void oneChunkLayoutUsesTheCompactFormAndRoundTrips() {
    ObjectLayout oneChunk = ObjectLayout.of(SMALL);
    assertEquals(
        List.of(oneChunk.digest()), oneChunk.chunks(), "one chunk: its digest is the object's");
    // Same shape, but the chunk is named differently from the object: written out in full.
    ObjectLayout spelledOut =
        new ObjectLayout(oneChunk.digest(), oneChunk.size(), List.of(Digest.of(new byte[] {7})));

    byte[] compact = CommandCodec.encode(reportWithOutput(oneChunk));
    byte[] full = CommandCodec.encode(reportWithOutput(spelledOut));

    assertEquals(full.length - Digest.LENGTH, compact.length, "the compact form omits the chunk");
    assertEquals(reportWithOutput(oneChunk), CommandCodec.decode(compact).command());
    assertEquals(reportWithOutput(spelledOut), CommandCodec.decode(full).command());
  }

  private static ReportResults reportWithOutput(ObjectLayout layout) {
    return new ReportResults(
        List.of(
            new Report(
                1,
                1,
                "n1",
                0,
                null,
                List.of(new Output("out", layout)),
                ObjectLayout.of(new byte[0]),
                0,
                1,
                0)));
  }

  @Test
  void everyTruncationIsAnIllegalArgument() {
    for (Command command : samples()) {
      byte[] encoded = CommandCodec.encode(command);
      for (int len = 0; len < encoded.length; len++) {
        byte[] prefix = Arrays.copyOf(encoded, len);
        int at = len;
        assertThrows(
            IllegalArgumentException.class,
            () -> CommandCodec.decode(prefix),
            () -> command.getClass().getSimpleName() + " truncated to " + at + " bytes");
      }
    }
  }

  @Test
  void unknownTagIsAnIllegalArgument() {
    byte[] encoded = CommandCodec.encode(new CancelRun(1, 2));
    for (byte tag : new byte[] {0, 11, 42, -1, Byte.MAX_VALUE}) {
      encoded[0] = tag;
      var e = assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(encoded));
      assertEquals(true, e.getMessage().contains("tag"), e.getMessage());
    }
  }

  @Test
  void unknownVersionIsAnIllegalArgument() {
    for (Command command : samples()) {
      byte[] encoded = CommandCodec.encode(command);
      for (byte version : new byte[] {0, 3, -1, Byte.MAX_VALUE}) {
        encoded[1] = version;
        var e = assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(encoded));
        assertEquals(true, e.getMessage().contains("version"), e.getMessage());
        assertEquals(version > 0, e instanceof CommandCodec.NewerFormatException, e.getMessage());
      }
    }
  }

  @Test
  void hugeOrNegativeCountsAreIllegalArguments() throws IOException {
    for (int count : new int[] {Integer.MAX_VALUE, 1 << 30, 100_000_000, -2, Integer.MIN_VALUE}) {
      // The number of assignments.
      assertMalformed(
          withHeader(
              CommandCodec.ASSIGN_TASKS,
              out -> {
                out.writeLong(1);
                out.writeInt(count);
              }));
      // The number of chunks.
      assertMalformed(withHeader(CommandCodec.PUT_CHUNKS, out -> out.writeInt(count)));
      // A string length (the request id).
      assertMalformed(withHeader(CommandCodec.SUBMIT_RUN, out -> out.writeInt(count)));
      // The number of steps, after valid leading fields.
      assertMalformed(
          withHeader(
              CommandCodec.SUBMIT_RUN,
              out -> {
                writeString(out, "r");
                writeString(out, "p");
                writeString(out, "s");
                writeString(out, "m");
                out.writeLong(1);
                out.writeInt(-1); // no start step
                out.writeInt(0); // no -step filter
                out.writeInt(0); // no -parallel
                out.writeInt(count);
              }));
      // The number of chunks of an output's layout.
      assertMalformed(
          withHeader(
              CommandCodec.REPORT_RESULTS,
              out -> {
                out.writeInt(1);
                out.writeLong(1);
                out.writeInt(1);
                writeString(out, "n1");
                out.writeInt(0);
                out.writeInt(-1); // no error
                out.writeInt(1); // one output
                writeString(out, "out");
                out.write(new byte[Digest.LENGTH]);
                out.writeLong(10);
                out.writeInt(count);
              }));
      // The number of chunks of the log's layout.
      assertMalformed(
          withHeader(
              CommandCodec.REPORT_RESULTS,
              out -> {
                out.writeInt(1);
                out.writeLong(1);
                out.writeInt(1);
                writeString(out, "n1");
                out.writeInt(0);
                out.writeInt(-1);
                out.writeInt(0); // no outputs
                out.write(new byte[Digest.LENGTH]);
                out.writeLong(10);
                out.writeInt(count);
              }));
    }
  }

  @Test
  void negativeChunkLengthIsAnIllegalArgument() throws IOException {
    assertMalformed(
        withHeader(
            CommandCodec.PUT_CHUNKS,
            out -> {
              out.writeInt(2);
              out.write(Digest.of(SMALL).toBytes());
              out.writeInt(-5);
              out.write(Digest.of(SMALL).toBytes());
              out.writeInt(5);
            }));
  }

  @Test
  void missingRequiredStringIsAnIllegalArgument() {
    // Only a run's start step and a report's error may be absent; an absent node, name or script
    // would make the entry fail to apply on every replica.
    var missing =
        List.<Command>of(
            new SubmitRun(null, "p", "s", "m", List.of(GEN), 1, null, List.of(), 0),
            new SubmitRun("r", null, "s", "m", List.of(GEN), 1, null, List.of(), 0),
            new SubmitRun("r", "p", null, "m", List.of(GEN), 1, null, List.of(), 0),
            new SubmitRun("r", "p", "s", null, List.of(GEN), 1, null, List.of(), 0),
            new SubmitRun(
                "r",
                "p",
                "s",
                "m",
                List.of(
                    new Step(
                        null, "x", List.of(), 1, 0, Duration.ZERO, Duration.ZERO, Map.of(), 0, 1)),
                1,
                null,
                List.of(),
                0),
            new SubmitRun(
                "r",
                "p",
                "s",
                "m",
                List.of(
                    new Step(
                        "a", null, List.of(), 1, 0, Duration.ZERO, Duration.ZERO, Map.of(), 0, 1)),
                1,
                null,
                List.of(),
                0),
            new AssignTasks(1, List.of(new AssignTasks.Assignment(1, 1, null))),
            new ReportResults(
                List.of(
                    new Report(
                        1, 1, null, 0, null, List.of(), ObjectLayout.of(new byte[0]), 0, 1, 0))),
            new ReportResults(
                List.of(
                    new Report(
                        1,
                        1,
                        "n1",
                        0,
                        null,
                        List.of(new Output(null, ObjectLayout.of(SMALL))),
                        ObjectLayout.of(new byte[0]),
                        0,
                        1,
                        0))));
    for (Command command : missing) {
      byte[] encoded = CommandCodec.encode(command);
      assertThrows(
          IllegalArgumentException.class,
          () -> CommandCodec.decode(encoded),
          () -> "decoding " + command);
    }
  }

  @Test
  void nullInsideAListIsAnIllegalArgumentNotANullPointer() throws IOException {
    // A -step filter whose one entry is an absent string: the record's List.copyOf would throw
    // NullPointerException.
    assertMalformed(
        withHeader(
            CommandCodec.SUBMIT_RUN,
            out -> {
              writeString(out, "r");
              writeString(out, "p");
              writeString(out, "s");
              writeString(out, "m");
              out.writeLong(1);
              out.writeInt(-1);
              out.writeInt(1);
              out.writeInt(-1); // the absent -step entry
              out.writeInt(0);
              out.writeInt(0);
            }));
  }

  @Test
  void randomCorruptionIsEitherDecodedOrAnIllegalArgument() {
    var random = new Random(20240611L);
    for (Command command : samples()) {
      byte[] encoded = CommandCodec.encode(command);
      for (int trial = 0; trial < 2_000; trial++) {
        byte[] mutated = encoded.clone();
        int flips = 1 + random.nextInt(4);
        for (int k = 0; k < flips; k++) {
          int at = random.nextInt(mutated.length);
          mutated[at] =
              switch (random.nextInt(4)) {
                case 0 -> (byte) random.nextInt(256);
                case 1 -> (byte) 0xff;
                case 2 -> (byte) 0x7f;
                default -> 0;
              };
        }
        if (random.nextInt(4) == 0) {
          mutated = Arrays.copyOf(mutated, random.nextInt(mutated.length + 1));
        }
        try {
          CommandCodec.decode(mutated);
        } catch (IllegalArgumentException expected) {
          // the only way decoding may fail
        } catch (Throwable t) {
          fail("decoding a corrupted " + command.getClass().getSimpleName() + " threw " + t, t);
        }
      }
    }
  }

  @Test
  void emptyInputIsAnIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> CommandCodec.decode(new byte[] {1}));
  }

  // ---- helpers -----------------------------------------------------------------------------

  private static Command roundTrip(Command command) {
    return CommandCodec.decode(CommandCodec.encode(command)).command();
  }

  private interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  /** A tag and the current version, then what {@code body} writes, then plenty of zero bytes. */
  private static byte[] withHeader(byte tag, Body body) throws IOException {
    var bytes = new ByteArrayOutputStream();
    try (var out = new DataOutputStream(bytes)) {
      out.writeByte(tag);
      out.writeByte(CommandCodec.V1);
      body.write(out);
      // Enough trailing bytes that a decoder trusting the count would start allocating.
      out.write(new byte[4096]);
    }
    return bytes.toByteArray();
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static void assertMalformed(byte[] data) {
    try {
      CommandCodec.decode(data);
      fail("decoded malformed input " + ByteBuffer.wrap(data, 0, Math.min(64, data.length)));
    } catch (IllegalArgumentException expected) {
      // good
    } catch (Throwable t) {
      fail("malformed input must be an IllegalArgumentException, not " + t, t);
    }
  }
}
