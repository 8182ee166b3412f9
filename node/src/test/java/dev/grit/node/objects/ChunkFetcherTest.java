package dev.grit.node.objects;

import static dev.grit.consensus.testing.TestCommands.assign;
import static dev.grit.consensus.testing.TestCommands.output;
import static dev.grit.consensus.testing.TestCommands.results;
import static dev.grit.consensus.testing.TestCommands.step;
import static dev.grit.consensus.testing.TestCommands.submit;
import static dev.grit.consensus.testing.TestCommands.success;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.command.ReportResults.Output;
import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A repair pass reads the record a page at a time from where the last one ended, and keeps its
 * place before a chunk it could not fetch (this node has no peers here, so nothing can be).
 */
class ChunkFetcherTest {
  @TempDir Path dir;
  private SqlState state;
  private ChunkStore chunks;
  private ChunkFetcher fetcher;
  private long index;
  private int run;

  @BeforeEach
  void open() throws Exception {
    state = SqlState.open(dir.resolve("state.db"));
    chunks = ChunkStore.open(dir.resolve("objects"));
    fetcher = new ChunkFetcher("n1", () -> state.queries(), chunks, null);
  }

  @AfterEach
  void close() {
    chunks.close();
    state.close();
  }

  /** A run whose one task published {@code items} small objects; returns their bytes. */
  private List<byte[]> publish(int items) throws Exception {
    run++;
    state.apply(1, ++index, submit("r" + run, "p" + run, run * 1_000L, step("make", "make")));
    long task = state.queries().pending(1).get(0).taskId();
    state.apply(1, ++index, assign(run * 1_000L + 10, task, 1, "n1"));
    var data = new ArrayList<byte[]>();
    var outputs = new ArrayList<Output>();
    for (int i = 0; i < items; i++) {
      byte[] b = ("run " + run + " item " + i + "\n").getBytes(StandardCharsets.UTF_8);
      data.add(b);
      outputs.add(output("item_" + i, b));
    }
    state.apply(
        1,
        ++index,
        results(success(task, 1, "n1", run * 1_000L + 500, outputs.toArray(Output[]::new))));
    return data;
  }

  private void store(byte[] data) throws Exception {
    chunks.putAll(List.of(new ChunkStore.Chunk(digest(data), ByteBuffer.wrap(data))));
  }

  /** The one chunk of a small object. */
  private static Digest digest(byte[] data) {
    return ObjectLayout.of(data).chunks().get(0);
  }

  private long lastRow() {
    return state.queries().chunksSince(0, Integer.MAX_VALUE).lastRow();
  }

  @Test
  void aPassGoesOnFromWhereTheLastEndedAndStopsBeforeAChunkItCouldNotFetch() throws Exception {
    List<byte[]> first = publish(7);
    byte[] lost = first.get(4);
    for (byte[] b : first) {
      if (b != lost) {
        store(b);
      }
    }

    long resume = fetcher.repairSince(0, 2);
    assertTrue(resume < lastRow(), "a pass that could not fetch a chunk ends before it");
    var again = state.queries().chunksSince(resume, 2);
    assertTrue(again.chunks().contains(digest(lost)), "the next pass starts with its page");
    assertFalse(chunks.has(digest(lost)));

    store(lost); // as a later fetch or an entry would
    long end = fetcher.repairSince(resume, 2);
    assertEquals(lastRow(), end);
    assertEquals(end, fetcher.repairSince(end, 2), "nothing new: the pass reads nothing");

    for (byte[] b : publish(3)) {
      store(b);
    }
    assertTrue(lastRow() > end);
    assertEquals(lastRow(), fetcher.repairSince(end, 2), "a later pass reads only the new objects");
  }

  @Test
  void aPageHoldsAtMostTheObjectsAskedFor() throws Exception {
    publish(5);
    var page = state.queries().chunksSince(0, 2);
    var rest = state.queries().chunksSince(page.lastRow(), Integer.MAX_VALUE);
    assertTrue(page.chunks().size() <= 2, page.toString());
    assertEquals(
        state.queries().chunksSince(0, Integer.MAX_VALUE).chunks().size(),
        page.chunks().size() + rest.chunks().size());
  }
}
