package dev.grit.node.work;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.node.api.TestServer;
import dev.grit.engine.object.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chunks told of while a script still writes are stored on every member through a follower, and
 * bytes that changed after they were hashed are stored under no name.
 */
class EarlyChunksTest {
  private static final int CHUNK = ChunkingHasher.CHUNK_SIZE;

  @TempDir Path dir;

  @BeforeEach
  void roomToStoreEarly() throws Exception {
    // Nothing is stored early within EarlyChunks.HEADROOM of the disk's reserve.
    assumeTrue(
        Files.getFileStore(dir).getUsableSpace() > 2 * EarlyChunks.HEADROOM,
        "less than " + 2 * EarlyChunks.HEADROOM + " bytes free where the test keeps its data");
  }

  @Test
  void anOutputsWholeChunksAreStoredWhileItsScriptStillWritesAndARewriteIsWhatIsRecorded()
      throws Exception {
    try (var server = new TestServer(dir.resolve("node"))) {
      assumeTrue(server.node.outputMode().equals("fuse"), "outputs are not captured through FUSE");
      Path go = dir.resolve("go");
      byte[] first = new byte[CHUNK];
      Arrays.fill(first, (byte) 'a');
      // The script writes one whole chunk, then waits for the test (a minute at most), ends the
      // file with a few bytes more and writes its first byte again.
      long run =
          server.submit(
              "early",
              """
              [[step]]
              name = "big"
              script = '''
              { head -c %d /dev/zero | tr '\\0' a
                for i in $(seq 600); do [ -e %s ] && break; sleep 0.1; done
                echo end; } > "$OUTPUT_DIR/big"
              printf b | dd of="$OUTPUT_DIR/big" bs=1 count=1 conv=notrunc 2>/dev/null
              '''
              """
                  .formatted(CHUNK, go));
      Wait.until(
          "the first chunk stored while the script runs",
          MiniCluster.TIMEOUT,
          () -> server.node.chunks().has(Digest.of(first)));
      assertEquals("RUNNING", TestServer.json(server.get("/v1/runs/" + run)).get("state").asText());
      Files.createFile(go);
      var ended = server.awaitEnd(run, MiniCluster.TIMEOUT);
      assertEquals("SUCCEEDED", ended.get("state").asText(), ended.toString());
      byte[] whole = Arrays.copyOf(first, CHUNK + 4);
      System.arraycopy("end\n".getBytes(), 0, whole, CHUNK, 4);
      whole[0] = 'b';
      var object = server.getBytes("/v1/objects/" + Digest.of(whole));
      assertEquals(200, object.statusCode());
      assertArrayEquals(whole, object.body());
    }
  }

  @Test
  void aWrittenChunkIsStoredOnEveryMemberAndAChangedOneNowhere() throws Exception {
    MiniCluster.runWithNewCluster(
        3,
        c -> {
          byte[] bytes = new byte[2 * CHUNK];
          new Random(11).nextBytes(bytes);
          Path staging = dir.resolve("staging");
          Files.write(staging, bytes);
          Digest first = Digest.of(Arrays.copyOfRange(bytes, 0, CHUNK));
          Digest second = Digest.of(Arrays.copyOfRange(bytes, CHUNK, 2 * CHUNK));
          // The script writes the second chunk's range again after it was hashed.
          byte[] rewritten = bytes.clone();
          rewritten[CHUNK + 5] ^= 1;
          Files.write(staging, rewritten);

          int worker = c.followers().get(0);
          try (var early = new EarlyChunks(c.node(worker), c.chunks(worker))) {
            var attempt = early.attempt();
            attempt.chunkWritten(staging, 0, first);
            attempt.chunkWritten(staging, CHUNK, second);
            attempt.finish(60);
            assertEquals(Set.of(first), attempt.stored(), "committed: the chunk whose bytes held");
            // Once finished, the attempt's staging files may be reused: nothing more is taken.
            Files.write(staging, new byte[2 * CHUNK]);
            attempt.chunkWritten(staging, 0, Digest.of(new byte[CHUNK]));
          }
          for (int i = 0; i < c.size(); i++) {
            int member = i;
            Wait.until(
                "member " + member + " holds the first chunk",
                MiniCluster.TIMEOUT,
                () -> c.chunks(member).has(first));
          }
          c.awaitConverged();
          for (int i = 0; i < c.size(); i++) {
            assertFalse(c.chunks(i).has(second), "bytes that changed, on member " + i);
            assertFalse(
                c.chunks(i).has(Digest.of(new byte[CHUNK])), "a chunk told of after the end");
          }
        });
  }
}
