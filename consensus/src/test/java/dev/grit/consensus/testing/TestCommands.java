package dev.grit.consensus.testing;

import dev.grit.engine.command.AssignTasks;
import dev.grit.engine.command.CancelRun;
import dev.grit.engine.command.ExpireAttempts;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.command.ReportResults;
import dev.grit.engine.command.ReportResults.Output;
import dev.grit.engine.command.ReportResults.Report;
import dev.grit.engine.command.SubmitRun;
import dev.grit.engine.manifest.Step;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/** Short builders for the commands tests apply, with plain defaults for every field not named. */
public final class TestCommands {
  /** The log of every attempt these builders report: empty, so it needs no stored chunk. */
  public static final ObjectLayout EMPTY_LOG = ObjectLayout.of(new byte[0]);

  private TestCommands() {}

  public static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A step with no retries, a one-second back-off, no timeout, no env and no parallel limit. */
  public static Step step(String name, String script, String... inputs) {
    return new Step(
        name,
        script,
        List.of(inputs),
        Step.UNLIMITED,
        0,
        Step.DEFAULT_RETRY_BACKOFF,
        Duration.ZERO,
        Map.of(),
        0,
        1);
  }

  /** A gather step: one task over every resource its inputs match; otherwise as {@link #step}. */
  public static Step gather(String name, String script, String... inputs) {
    return new Step(
        name,
        script,
        List.of(inputs),
        true,
        Step.UNLIMITED,
        0,
        Step.DEFAULT_RETRY_BACKOFF,
        Duration.ZERO,
        Map.of(),
        0,
        1);
  }

  public static Step withRetries(Step s, int retries, Duration backoff) {
    return new Step(
        s.name(),
        s.script(),
        s.inputs(),
        s.gather(),
        s.parallel(),
        retries,
        backoff,
        s.timeout(),
        s.env(),
        s.priority(),
        s.line());
  }

  /** A submission of {@code steps} to {@code pipeline} with no -start, -step or -parallel. */
  public static SubmitRun submit(String requestId, String pipeline, long at, Step... steps) {
    return new SubmitRun(
        requestId,
        pipeline,
        pipeline + ".toml",
        "# manifest of " + pipeline + " (" + requestId + ")\n",
        List.of(steps),
        at,
        null,
        List.of(),
        0);
  }

  public static AssignTasks assign(long at, long taskId, int attempt, String node) {
    return new AssignTasks(at, List.of(new AssignTasks.Assignment(taskId, attempt, node)));
  }

  public static Output output(String name, byte[] data) {
    return new Output(name, ObjectLayout.of(data));
  }

  public static Output output(String name, String data) {
    return output(name, bytes(data));
  }

  /** A successful attempt that started one second before it finished. */
  public static Report success(
      long taskId, int attempt, String node, long finishedAt, Output... outputs) {
    return new Report(
        taskId,
        attempt,
        node,
        0,
        null,
        List.of(outputs),
        EMPTY_LOG,
        finishedAt - 1000,
        finishedAt,
        0);
  }

  public static Report failure(
      long taskId, int attempt, String node, long finishedAt, String error, int jitterPermille) {
    return new Report(
        taskId,
        attempt,
        node,
        1,
        error,
        List.of(),
        EMPTY_LOG,
        finishedAt - 1000,
        finishedAt,
        jitterPermille);
  }

  public static ReportResults results(Report... reports) {
    return new ReportResults(List.of(reports));
  }

  public static ExpireAttempts expire(long at, long taskId, int attempt, String reason) {
    return new ExpireAttempts(at, List.of(new ExpireAttempts.Expiry(taskId, attempt, reason)));
  }

  public static CancelRun cancel(long runId, long at) {
    return new CancelRun(runId, at);
  }

  /** A {@link PutChunks} header and its data for {@code data} cut in {@code chunkSize} chunks. */
  public record ChunkUpload(PutChunks command, ByteString data, List<Digest> digests) {}

  public static ChunkUpload upload(byte[] data, int chunkSize) {
    var chunks = new ArrayList<PutChunks.Chunk>();
    var digests = new ArrayList<Digest>();
    for (int off = 0; off < data.length; off += chunkSize) {
      byte[] part = Arrays.copyOfRange(data, off, Math.min(data.length, off + chunkSize));
      Digest d = Digest.of(part);
      chunks.add(new PutChunks.Chunk(d, part.length));
      digests.add(d);
    }
    return new ChunkUpload(new PutChunks(chunks), ByteString.copyFrom(data), digests);
  }

  /** The upload of an object's chunks as {@link ObjectLayout#of} cuts them. */
  public static ChunkUpload upload(byte[] data) {
    return upload(data, ChunkingHasher.CHUNK_SIZE);
  }
}
