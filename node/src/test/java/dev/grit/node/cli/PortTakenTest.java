package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.Ports;
import dev.grit.node.testing.NodeJvm;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose port another process holds stops at once: exit status non-zero and one line that
 * names the address, no stack trace, for the HTTP and the Raft port alike.
 */
class PortTakenTest {
  @Test
  void aTakenHttpPortIsOneLineAndANonZeroExit(@TempDir Path dir) throws Exception {
    try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertRefused(dir, Ports.take(), "127.0.0.1:" + port, "127.0.0.1:" + port);
    }
  }

  @Test
  void aTakenRaftPortIsOneLineAndANonZeroExit(@TempDir Path dir) throws Exception {
    try (var taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      assertRefused(dir, port, "127.0.0.1:0", "127.0.0.1:" + port);
    }
  }

  private static void assertRefused(Path dir, int raftPort, String http, String address)
      throws Exception {
    try (var node =
        NodeJvm.start(
            "n1",
            dir.resolve("n1.log"),
            "http://" + http,
            List.of(),
            List.of(
                "node",
                "--id",
                "n1",
                "--peers",
                "n1=127.0.0.1:" + raftPort,
                "--http",
                http,
                "--data",
                dir.resolve("n1").toString()),
            Map.of())) {
      int status = node.awaitExit(Duration.ofSeconds(60));
      List<String> out = node.output();
      assertNotEquals(0, status, String.join("\n", out));
      String expected = "grit: cannot listen on " + address + ": address already in use";
      assertEquals(
          1, out.stream().filter(expected::equals).count(), "one line naming the address:\n" + String.join("\n", out));
      assertTrue(
          out.stream().noneMatch(l -> l.startsWith("\tat ") || l.contains("Exception")),
          "no stack trace:\n" + String.join("\n", out));
    }
  }
}
