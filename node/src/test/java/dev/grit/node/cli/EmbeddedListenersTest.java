package dev.grit.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.Wait;
import dev.grit.node.testing.Grit;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grit run} exposes nothing: while a run is under way, every socket its process listens on
 * (TCP) or has bound (UDP) is on a loopback address, as the kernel reports them in {@code /proc}.
 */
class EmbeddedListenersTest {
  @TempDir Path dir;

  /** One socket of the process: protocol, local address and port, TCP state. */
  record Bound(String protocol, InetAddress address, int port, String state) {
    @Override
    public String toString() {
      return protocol + " " + address.getHostAddress() + ":" + port + " state " + state;
    }
  }

  @Test
  void everySocketOfAnEmbeddedRunIsOnLoopback() throws Exception {
    Path started = dir.resolve("started");
    Path gate = dir.resolve("gate");
    Path manifest = dir.resolve("wait.toml");
    Files.writeString(
        manifest,
        """
        [[step]]
        name = "wait"
        script = '''
        touch %s
        i=0
        while [ ! -e %s ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
        echo done > $OUTPUT_DIR/done
        '''
        """
            .formatted(started, gate));
    Process run =
        new Grit(dir, Map.of("GRIT_OUTPUT", "plain"))
            .start("run", manifest.toString(), "--db", "db", "--quiet");
    try {
      Wait.until(
          "the step to start",
          Duration.ofSeconds(60),
          () -> Files.exists(started) || !run.isAlive());
      assertTrue(run.isAlive(), "grit run ended early");
      List<Bound> sockets = sockets(run.pid());
      assertFalse(
          sockets.stream().noneMatch(s -> s.protocol().startsWith("tcp") && s.state().equals("0A")),
          "the Raft server listens somewhere: " + sockets);
      for (Bound s : sockets) {
        boolean exposed = s.protocol().startsWith("udp") || s.state().equals("0A");
        if (exposed) {
          assertTrue(s.address().isLoopbackAddress(), "grit run listens beyond loopback: " + s);
        }
      }
      Files.createFile(gate);
      assertTrue(run.waitFor(60, TimeUnit.SECONDS), "grit run did not end");
      assertEquals(0, run.exitValue());
    } finally {
      run.destroyForcibly();
    }
  }

  /** The TCP and UDP sockets process {@code pid} holds. */
  static List<Bound> sockets(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException closedMeanwhile) {
          // gone
        }
      }
    }
    var out = new ArrayList<Bound>();
    for (String protocol : List.of("tcp", "tcp6", "udp", "udp6")) {
      Path table = Path.of("/proc", Long.toString(pid), "net", protocol);
      if (!Files.exists(table)) {
        continue;
      }
      List<String> lines = Files.readAllLines(table);
      for (String line : lines.subList(1, lines.size())) {
        String[] f = line.trim().split("\\s+");
        if (!inodes.contains(f[9])) {
          continue;
        }
        String[] local = f[1].split(":");
        out.add(new Bound(protocol, address(local[0]), Integer.parseInt(local[1], 16), f[3]));
      }
    }
    return out;
  }

  /** /proc/net's hex address: 32-bit words in host (little-endian) order. */
  private static InetAddress address(String hex) throws IOException {
    byte[] raw = HexFormat.of().parseHex(hex);
    byte[] bytes = new byte[raw.length];
    for (int word = 0; word < raw.length; word += 4) {
      for (int i = 0; i < 4; i++) {
        bytes[word + i] = raw[word + 3 - i];
      }
    }
    return InetAddress.getByAddress(bytes);
  }
}
