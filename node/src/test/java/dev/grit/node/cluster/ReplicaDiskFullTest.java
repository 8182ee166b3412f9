package dev.grit.node.cluster;

import static dev.grit.consensus.testing.TestCommands.upload;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.SmallDisk;
import dev.grit.consensus.testing.TestCommands.ChunkUpload;
import dev.grit.consensus.testing.Wait;
import dev.grit.engine.object.DiskReserve;
import dev.grit.node.api.TestServer;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica whose disk is down to its reserve refuses chunk bytes beside the log instead of
 * filling the disk, says so on {@code /readyz} and stops (the process exits, to be restarted); once
 * there is room again it starts and stores them.
 */
@Tag("slow")
class ReplicaDiskFullTest {
  /** Room for RocksDB's preallocated log, the reserve (a twentieth) and some chunks. */
  private static final String DISK_SIZE = "192m";

  @TempDir Path dir;
  private SmallDisk small;
  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.fatal.clear();
      server.close();
    }
    if (small != null) {
      small.close();
    }
  }

  @Test
  void aFullDiskIsRefusedReportedAndOutlived() throws Exception {
    small = SmallDisk.mount(dir.resolve("disk"), DISK_SIZE);
    Path data = small.path().resolve("n1");
    int port = Ports.take();
    server = new TestServer(data, port);
    Wait.until("a leader", Duration.ofSeconds(30), () -> server.node.raft().isLeaderReady());
    // The first stored chunk makes RocksDB preallocate its log.
    send(upload(bytes(4096, 1)));
    assertEquals(200, server.get("/readyz").statusCode());

    long reserve = DiskReserve.of(Files.getFileStore(small.path()));
    Path ballast = small.path().resolve("ballast");
    fillUntilFree(ballast, reserve + (2L << 20));
    ChunkUpload big = upload(bytes(2 << 20, 2));
    // The proposal is never answered here: the replica stops (its process exits) instead.
    server.node.raft().submit(big.command(), big.data());
    Wait.until("the replica to stop", Duration.ofSeconds(30), () -> !server.fatal.calls().isEmpty());
    assertFalse(server.node.chunks().has(big.digests().get(0)), "the refused chunk is stored");
    assertTrue(small.free() > reserve, "the disk was filled into the reserve: " + small.free());

    var ready = server.get("/readyz");
    assertEquals(503, ready.statusCode(), ready.body());
    String reason = TestServer.json(ready).path("detail").asText();
    assertTrue(reason.contains("no space left"), ready.body());
    var fatal = server.fatal.calls();
    assertEquals(1, fatal.size(), fatal::toString);
    assertTrue(fatal.get(0).cause().getMessage().contains("no space left"), fatal::toString);

    // As Kubernetes would: the stopped replica is started again, once there is room.
    server.fatal.clear();
    server.close();
    server = null;
    Files.delete(ballast);
    server = new TestServer(data, port);
    Wait.until("a leader", Duration.ofSeconds(30), () -> server.node.raft().isLeaderReady());
    send(big);
    assertTrue(server.node.chunks().has(big.digests().get(0)));
    assertEquals(200, server.get("/readyz").statusCode());
  }

  private Reply send(ChunkUpload u) throws Exception {
    return server.node.raft().submit(u.command(), u.data()).get(30, SECONDS);
  }

  private static byte[] bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Grows {@code file} until the disk has about {@code free} bytes left. */
  private void fillUntilFree(Path file, long free) throws Exception {
    try (var f = new RandomAccessFile(file.toFile(), "rw")) {
      byte[] block = new byte[1 << 16];
      while (small.free() > free + block.length) {
        f.write(block);
      }
    }
  }
}
