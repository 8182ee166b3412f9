package dev.grit.consensus.raft;

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
import dev.grit.engine.command.RulesVersion;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire form of commands in the log: a type tag byte, a format version byte, then the fields.
 * A new field means a new version; decoding keeps every old version it ever wrote, because a log
 * and its snapshots outlive the binary that wrote them (golden bytes of each in the tests keep it
 * so). A version newer than this code reads is a {@link NewerFormatException}: a replica that
 * meets one in its log must stop, not skip it. The header of a command that carries chunks
 * ({@link dev.grit.engine.command.CarriesChunks}) is followed by the chunk bytes, which travel
 * beside the log entry.
 *
 * <p>A release writes a new format only where every member can read it: {@link RegisterNode}
 * keeps format 1 while it announces the initial rules version, so a cluster of older releases
 * reads the registrations of an upgraded member; {@link SubmitRun} keeps format 1 unless its
 * manifest has gather steps, which the leader logs only once every member follows the rules that
 * plan them.
 */
public final class CommandCodec {
  static final byte SUBMIT_RUN = 1;
  static final byte ASSIGN_TASKS = 2;
  static final byte PUT_CHUNKS = 3;
  static final byte REPORT_RESULTS = 4;
  static final byte EXPIRE_ATTEMPTS = 5;
  static final byte CANCEL_RUN = 6;
  static final byte REGISTER_NODE = 7;
  static final byte RAISE_RULES_VERSION = 8;
  static final byte GC = 9;
  static final byte RETRY_TASKS = 10;
  static final byte V1 = 1;
  /**
   * {@link RegisterNode} with the rules version its code supports; {@link SubmitRun} with a flags
   * byte per step (bit 0: a gather step).
   */
  static final byte V2 = 2;

  private static final int STEP_GATHERS = 1;

  /** A command whose format version is newer than this code reads. */
  public static final class NewerFormatException extends IllegalArgumentException {
    NewerFormatException(String message) {
      super(message);
    }
  }

  private CommandCodec() {}

  /** The decoded command and how many bytes of the input its header took. */
  public record Decoded(Command command, int headerLength) {}

  public static byte[] encode(Command command) {
    var bytes = new ByteArrayOutputStream(256);
    try (var out = new DataOutputStream(bytes)) {
      if (command instanceof SubmitRun s) {
        writeSubmit(out, s);
      } else if (command instanceof AssignTasks a) {
        header(out, ASSIGN_TASKS);
        out.writeLong(a.at());
        out.writeInt(a.assignments().size());
        for (var as : a.assignments()) {
          out.writeLong(as.taskId());
          out.writeInt(as.attempt());
          writeString(out, as.node());
        }
      } else if (command instanceof PutChunks p) {
        header(out, PUT_CHUNKS);
        writeChunks(out, p.chunks());
      } else if (command instanceof ReportResults r) {
        writeReports(out, r);
      } else if (command instanceof ExpireAttempts e) {
        header(out, EXPIRE_ATTEMPTS);
        out.writeLong(e.at());
        out.writeInt(e.expiries().size());
        for (var x : e.expiries()) {
          out.writeLong(x.taskId());
          out.writeInt(x.attempt());
          writeString(out, x.reason());
        }
      } else if (command instanceof RegisterNode r) {
        boolean initial = r.rulesVersion() == RulesVersion.INITIAL;
        header(out, REGISTER_NODE, initial ? V1 : V2);
        writeString(out, r.node());
        writeString(out, r.httpAddress());
        out.writeInt(r.slots());
        out.writeLong(r.at());
        if (!initial) {
          out.writeInt(r.rulesVersion());
        }
      } else if (command instanceof RaiseRulesVersion r) {
        header(out, RAISE_RULES_VERSION);
        out.writeInt(r.version());
        out.writeLong(r.at());
      } else if (command instanceof Gc g) {
        header(out, GC);
        out.writeLong(g.cutoff());
        out.writeLong(g.at());
      } else if (command instanceof CancelRun c) {
        header(out, CANCEL_RUN);
        out.writeLong(c.runId());
        out.writeLong(c.at());
      } else if (command instanceof RetryTasks r) {
        header(out, RETRY_TASKS);
        out.writeLong(r.runId());
        out.writeLong(r.taskId());
        out.writeLong(r.at());
      } else {
        throw new IllegalArgumentException("no encoding for " + command);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes a command at the start of {@code data}; malformed input is an {@link IllegalArgumentException}. */
  public static Decoded decode(byte[] data) {
    return decode(new ByteArrayInputStream(data));
  }

  /**
   * Decodes a command at the start of {@code input}, reading no further than its header: the
   * chunk bytes after it stay where they are. The stream's {@code available()} must tell the
   * bytes left in it (as in-memory streams do).
   */
  public static Decoded decode(java.io.InputStream bytes) {
    int size;
    try {
      size = bytes.available();
    } catch (IOException e) {
      throw new IllegalArgumentException("unreadable command: " + e, e);
    }
    try (var in = new DataInputStream(bytes)) {
      byte tag = in.readByte();
      int version = checkVersion(tag, in.readByte());
      Command command =
          switch (tag) {
            case SUBMIT_RUN -> readSubmit(in, version);
            case ASSIGN_TASKS -> {
              long at = in.readLong();
              int n = count(in);
              var list = new ArrayList<AssignTasks.Assignment>(n);
              for (int i = 0; i < n; i++) {
                list.add(new AssignTasks.Assignment(in.readLong(), in.readInt(), readRequired(in)));
              }
              yield new AssignTasks(at, list);
            }
            case PUT_CHUNKS -> new PutChunks(readChunks(in));
            case REPORT_RESULTS -> readReports(in);
            case EXPIRE_ATTEMPTS -> {
              long at = in.readLong();
              int n = count(in);
              var list = new ArrayList<ExpireAttempts.Expiry>(n);
              for (int i = 0; i < n; i++) {
                list.add(new ExpireAttempts.Expiry(in.readLong(), in.readInt(), readString(in)));
              }
              yield new ExpireAttempts(at, list);
            }
            case CANCEL_RUN -> new CancelRun(in.readLong(), in.readLong());
            case REGISTER_NODE ->
                new RegisterNode(
                    readRequired(in),
                    readRequired(in),
                    in.readInt(),
                    in.readLong(),
                    version == V1 ? RulesVersion.INITIAL : in.readInt());
            case RAISE_RULES_VERSION -> new RaiseRulesVersion(in.readInt(), in.readLong());
            case GC -> new Gc(in.readLong(), in.readLong());
            case RETRY_TASKS -> new RetryTasks(in.readLong(), in.readLong(), in.readLong());
            default -> throw new IllegalArgumentException("unknown command tag " + tag);
          };
      return new Decoded(command, size - bytes.available());
    } catch (IOException e) {
      throw new IllegalArgumentException("truncated command: " + e, e);
    }
  }

  /** The newest format version of each command this code reads and writes. */
  private static int newestVersion(byte tag) {
    return switch (tag) {
      case ASSIGN_TASKS, PUT_CHUNKS, REPORT_RESULTS, EXPIRE_ATTEMPTS, CANCEL_RUN,
          RAISE_RULES_VERSION, GC, RETRY_TASKS -> V1;
      case SUBMIT_RUN, REGISTER_NODE -> V2;
      default -> throw new IllegalArgumentException("unknown command tag " + tag);
    };
  }

  private static int checkVersion(byte tag, byte version) {
    int newest = newestVersion(tag);
    if (version > newest) {
      throw new NewerFormatException(
          "command type "
              + tag
              + " has format version "
              + version
              + ", newer than this release reads ("
              + newest
              + "): upgrade this node");
    }
    if (version < V1) {
      throw new IllegalArgumentException("command format version " + version + " is unknown");
    }
    return version;
  }

  private static void header(DataOutputStream out, byte tag) throws IOException {
    header(out, tag, V1);
  }

  private static void header(DataOutputStream out, byte tag, byte version) throws IOException {
    out.writeByte(tag);
    out.writeByte(version);
  }

  private static void writeSubmit(DataOutputStream out, SubmitRun s) throws IOException {
    boolean flags = !s.gatherSteps().isEmpty();
    header(out, SUBMIT_RUN, flags ? V2 : V1);
    writeString(out, s.requestId());
    writeString(out, s.pipeline());
    writeString(out, s.source());
    writeString(out, s.manifestText());
    out.writeLong(s.submittedAt());
    writeString(out, s.startStep());
    out.writeInt(s.onlySteps().size());
    for (String name : s.onlySteps()) {
      writeString(out, name);
    }
    out.writeInt(s.maxParallel());
    out.writeInt(s.steps().size());
    for (Step step : s.steps()) {
      writeString(out, step.name());
      writeString(out, step.script());
      out.writeInt(step.inputs().size());
      for (String input : step.inputs()) {
        writeString(out, input);
      }
      out.writeInt(step.parallel());
      out.writeInt(step.retries());
      out.writeLong(step.retryBackoff().toMillis());
      out.writeLong(step.timeout().toMillis());
      out.writeInt(step.env().size());
      for (var e : new java.util.TreeMap<>(step.env()).entrySet()) {
        writeString(out, e.getKey());
        writeString(out, e.getValue());
      }
      out.writeInt(step.priority());
      out.writeInt(step.line());
      if (flags) {
        out.writeByte(step.gather() ? STEP_GATHERS : 0);
      }
    }
  }

  private static SubmitRun readSubmit(DataInputStream in, int version) throws IOException {
    String requestId = readRequired(in);
    String pipeline = readRequired(in);
    String source = readRequired(in);
    String text = readRequired(in);
    long submittedAt = in.readLong();
    String startStep = readString(in);
    int nOnly = count(in);
    var only = new ArrayList<String>(nOnly);
    for (int i = 0; i < nOnly; i++) {
      only.add(readRequired(in));
    }
    int maxParallel = in.readInt();
    int nSteps = count(in);
    var steps = new ArrayList<Step>(nSteps);
    for (int i = 0; i < nSteps; i++) {
      String name = readRequired(in);
      String script = readRequired(in);
      int nInputs = count(in);
      var inputs = new ArrayList<String>(nInputs);
      for (int k = 0; k < nInputs; k++) {
        inputs.add(readRequired(in));
      }
      int parallel = in.readInt();
      int retries = in.readInt();
      Duration backoff = Duration.ofMillis(in.readLong());
      Duration timeout = Duration.ofMillis(in.readLong());
      int nEnv = count(in);
      Map<String, String> env = new LinkedHashMap<>();
      for (int k = 0; k < nEnv; k++) {
        env.put(readRequired(in), readRequired(in));
      }
      int priority = in.readInt();
      int line = in.readInt();
      int flags = version >= V2 ? in.readUnsignedByte() : 0;
      if ((flags & ~STEP_GATHERS) != 0) {
        throw new IOException("unknown step flags " + flags);
      }
      boolean gather = (flags & STEP_GATHERS) != 0;
      steps.add(
          new Step(
              name, script, inputs, gather, parallel, retries, backoff, timeout, env, priority, line));
    }
    return new SubmitRun(
        requestId, pipeline, source, text, steps, submittedAt, startStep, only, maxParallel);
  }

  private static void writeReports(DataOutputStream out, ReportResults r) throws IOException {
    header(out, REPORT_RESULTS);
    out.writeInt(r.reports().size());
    for (var report : r.reports()) {
      out.writeLong(report.taskId());
      out.writeInt(report.attempt());
      writeString(out, report.node());
      out.writeInt(report.exitCode());
      writeString(out, report.error());
      out.writeInt(report.outputs().size());
      for (var o : report.outputs()) {
        writeString(out, o.name());
        writeLayout(out, o.layout());
      }
      writeLayout(out, report.log());
      out.writeLong(report.startedAt());
      out.writeLong(report.finishedAt());
      out.writeInt(report.jitterPermille());
    }
    writeChunks(out, r.chunks());
  }

  private static void writeChunks(DataOutputStream out, List<PutChunks.Chunk> chunks)
      throws IOException {
    out.writeInt(chunks.size());
    for (var chunk : chunks) {
      out.write(chunk.digest().toBytes());
      out.writeInt(chunk.length());
    }
  }

  private static List<PutChunks.Chunk> readChunks(DataInputStream in) throws IOException {
    int n = count(in);
    var list = new ArrayList<PutChunks.Chunk>(n);
    for (int i = 0; i < n; i++) {
      Digest digest = readDigest(in);
      int length = in.readInt();
      if (length < 0) {
        throw new IOException("negative chunk length " + length);
      }
      list.add(new PutChunks.Chunk(digest, length));
    }
    return list;
  }

  private static ReportResults readReports(DataInputStream in) throws IOException {
    int n = count(in);
    var reports = new ArrayList<ReportResults.Report>(n);
    for (int i = 0; i < n; i++) {
      long taskId = in.readLong();
      int attempt = in.readInt();
      String node = readRequired(in);
      int exit = in.readInt();
      String error = readString(in);
      int nOut = count(in);
      var outputs = new ArrayList<ReportResults.Output>(nOut);
      for (int k = 0; k < nOut; k++) {
        outputs.add(new ReportResults.Output(readRequired(in), readLayout(in)));
      }
      ObjectLayout log = readLayout(in);
      reports.add(
          new ReportResults.Report(
              taskId, attempt, node, exit, error, outputs, log, in.readLong(), in.readLong(), in.readInt()));
    }
    return new ReportResults(reports, readChunks(in));
  }

  private static void writeLayout(DataOutputStream out, ObjectLayout layout) throws IOException {
    out.write(layout.digest().toBytes());
    out.writeLong(layout.size());
    // A one-chunk object's chunk is the object itself: say so instead of repeating the digest.
    boolean selfChunk = layout.chunks().size() == 1 && layout.chunks().get(0).equals(layout.digest());
    out.writeInt(selfChunk ? -1 : layout.chunks().size());
    if (!selfChunk) {
      for (Digest d : layout.chunks()) {
        out.write(d.toBytes());
      }
    }
  }

  private static ObjectLayout readLayout(DataInputStream in) throws IOException {
    Digest digest = readDigest(in);
    long size = in.readLong();
    int n = in.readInt();
    if (n == -1) {
      return new ObjectLayout(digest, size, List.of(digest));
    }
    if (n < 0 || n > in.available() / Digest.LENGTH) {
      throw new IOException("bad chunk count " + n);
    }
    var chunks = new ArrayList<Digest>(n);
    for (int i = 0; i < n; i++) {
      chunks.add(readDigest(in));
    }
    return new ObjectLayout(digest, size, chunks);
  }

  private static Digest readDigest(DataInputStream in) throws IOException {
    byte[] b = new byte[Digest.LENGTH];
    in.readFully(b);
    return Digest.fromBytes(b);
  }

  private static int count(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available()) {
      // Every element takes at least one byte: a larger count is a corrupt entry.
      throw new IOException("bad element count " + n);
    }
    return n;
  }

  private static void writeString(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  /** A string that only a malformed entry lacks. */
  private static String readRequired(DataInputStream in) throws IOException {
    String s = readString(in);
    if (s == null) {
      throw new IOException("a required string is absent");
    }
    return s;
  }

  private static String readString(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n == -1) {
      return null;
    }
    if (n < 0 || n > in.available()) {
      throw new IOException("bad string length " + n);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
