package dev.grit.node.bench;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.engine.command.PutChunks;
import dev.grit.engine.object.ChunkingHasher;
import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Object bytes through grit's log path alone (no script, no FUSE, no start-up): {@code MIB} MiB of
 * fresh 4 MiB chunks proposed as {@link PutChunks} entries of two chunks, {@code IN_FLIGHT} at a
 * time, the way a worker's reporter sends a large output; each entry is verified, stored durably on
 * every member and committed. Members run in this JVM on loopback (gRPC).
 *
 * <p>Usage: {@code ChunkThroughput MEMBERS MIB IN_FLIGHT SCRATCH_DIR}; prints {@code chunks_mb_s}.
 */
public final class ChunkThroughput {
  private ChunkThroughput() {}

  public static void main(String[] args) throws Exception {
    int members = Integer.parseInt(args[0]);
    int mib = Integer.parseInt(args[1]);
    int inFlight = Integer.parseInt(args[2]);
    Path dir = Files.createTempDirectory(Path.of(args[3]), "chunk-bench");
    var peers = new ArrayList<Peer>();
    for (int i = 1; i <= members; i++) {
      peers.add(new Peer("m" + i, "127.0.0.1", freePort()));
    }
    var fatal = new java.util.concurrent.atomic.AtomicReference<IllegalStateException>();
    var nodes = new ArrayList<RaftNode>();
    var stores = new ArrayList<ChunkStore>();
    var starts = new ArrayList<CompletableFuture<RaftNode>>();
    for (Peer p : peers) {
      ChunkStore chunks = ChunkStore.open(dir.resolve(p.id()).resolve("objects"));
      stores.add(chunks);
      var sm =
          new GritStateMachine(
              dir.resolve(p.id()).resolve("state.db"),
              chunks,
              events -> {},
              (what, cause) -> fatal.compareAndSet(null, new IllegalStateException(what, cause)));
      starts.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return RaftNode.start(
                      "bench", p.id(), peers, null, dir.resolve(p.id()).resolve("raft"), sm, null);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    // Closed however the measurement ends: a member's threads left running keep the JVM alive.
    try {
      for (var s : starts) {
        nodes.add(s.join());
      }
      RaftNode proposer = nodes.get(nodes.size() - 1);
      while (proposer.leaderId() == null) {
        Thread.sleep(10);
      }
      var random = new Random(1);
      send(proposer, 64, inFlight, random); // warm-up
      long t0 = System.nanoTime();
      send(proposer, mib, inFlight, random);
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("chunks_mb_s %.0f%n", mib * 1.048576 / seconds);
    } finally {
      for (RaftNode n : nodes) {
        n.close();
      }
      for (ChunkStore c : stores) {
        c.close();
      }
    }
    if (fatal.get() != null) {
      throw fatal.get();
    }
  }

  private static void send(RaftNode proposer, int mib, int inFlight, Random random)
      throws Exception {
    int chunk = ChunkingHasher.CHUNK_SIZE;
    // Random bytes are slow to make: one random chunk, each copy made unique by a counter.
    byte[] base = new byte[chunk];
    random.nextBytes(base);
    var window = new ArrayDeque<CompletableFuture<?>>();
    for (long sent = 0; sent < (long) mib << 20; sent += 2L * chunk) {
      var list = new ArrayList<PutChunks.Chunk>();
      ByteString data = ByteString.EMPTY;
      for (int k = 0; k < 2; k++) {
        byte[] bytes = base.clone();
        java.nio.ByteBuffer.wrap(bytes).putLong(random.nextLong()).putLong(System.nanoTime());
        list.add(new PutChunks.Chunk(Digest.of(bytes), chunk));
        data = data.concat(UnsafeByteOperations.unsafeWrap(bytes));
      }
      if (window.size() >= inFlight) {
        window.removeFirst().get(120, TimeUnit.SECONDS);
      }
      window.addLast(proposer.submit(new PutChunks(List.copyOf(list)), data));
    }
    for (var f : window) {
      f.get(120, TimeUnit.SECONDS);
    }
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
