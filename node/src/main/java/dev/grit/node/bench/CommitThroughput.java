package dev.grit.node.bench;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.raft.GritStateMachine;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.consensus.raft.RaftNode.Peer;
import dev.grit.consensus.state.Reply;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.consensus.tls.TlsInit;
import dev.grit.engine.command.RegisterNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Raft commit throughput of grit's command path: small commands proposed through the async
 * client, {@code inFlight} at a time, each committed, applied to SQLite and answered. Members run
 * in this JVM on loopback (gRPC), with their own data directories.
 *
 * <p>Usage: {@code CommitThroughput MEMBERS COMMANDS IN_FLIGHT SCRATCH_DIR [tls]}: with {@code
 * tls}, members speak mutual TLS with certificates of a CA made as {@code grit tls init} makes one.
 */
public final class CommitThroughput {
  private CommitThroughput() {}

  public static void main(String[] args) throws Exception {
    int members = Integer.parseInt(args[0]);
    int commands = Integer.parseInt(args[1]);
    int inFlight = Integer.parseInt(args[2]);
    Path dir = Files.createTempDirectory(Path.of(args[3]), "raft-bench");
    boolean tls = args.length > 4 && args[4].equals("tls");
    var peers = new ArrayList<Peer>();
    for (int i = 1; i <= members; i++) {
      peers.add(new Peer("m" + i, "127.0.0.1", freePort()));
    }
    if (tls) {
      new TlsInit(
              "bench",
              peers.stream().map(Peer::id).toList(),
              List.of(),
              List.of("127.0.0.1"),
              Duration.ofDays(1),
              Duration.ofDays(1))
          .run(dir.resolve("tls"), Instant.now());
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
                  MemberTls member =
                      tls ? MemberTls.load(dir.resolve("tls").resolve(TlsInit.NODES), p.id()) : null;
                  return RaftNode.start(
                      "bench", p.id(), peers, null, dir.resolve(p.id()).resolve("raft"), sm, member);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    for (var s : starts) {
      nodes.add(s.join());
    }
    RaftNode proposer = nodes.get(0);
    while (proposer.leaderId() == null) {
      Thread.sleep(10);
    }
    // Warm up the path before measuring.
    run(proposer, Math.min(2000, commands), inFlight);
    long t0 = System.nanoTime();
    long cpu0 = cpuNanos();
    run(proposer, commands, inFlight);
    double seconds = (System.nanoTime() - t0) / 1e9;
    // CPU of the whole process (all members) per commit: steadier than the rate on a busy machine.
    double cpuMillis = (cpuNanos() - cpu0) / 1e6 / commands;
    System.out.printf(
        "members %d, in flight %d, %s: %.0f commits/s, %.2f ms CPU per commit%n",
        members, inFlight, tls ? "mutual TLS" : "plain text", commands / seconds, cpuMillis);
    for (RaftNode n : nodes) {
      n.close();
    }
    for (ChunkStore c : stores) {
      c.close();
    }
    if (fatal.get() != null) {
      throw fatal.get();
    }
  }

  private static void run(RaftNode proposer, int commands, int inFlight) throws Exception {
    var window = new Semaphore(inFlight);
    List<CompletableFuture<Reply>> pending = new ArrayList<>();
    for (int i = 0; i < commands; i++) {
      window.acquire();
      var f = proposer.submit(new RegisterNode("bench-" + (i % 16), "", 1, i));
      f.whenComplete((r, e) -> window.release());
      pending.add(f);
    }
    for (var f : pending) {
      f.get(60, TimeUnit.SECONDS);
    }
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
