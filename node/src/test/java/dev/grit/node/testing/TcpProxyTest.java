package dev.grit.node.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.Wait;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The link proxy the partition tests cut: forwards, drops without a word, heals, delays. */
class TcpProxyTest {
  /** Echoes every byte back and counts what reached it. */
  private static final class EchoServer implements AutoCloseable {
    final ServerSocket socket;
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicLong received = new AtomicLong();

    EchoServer() throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t = new Thread(this::serve, "echo");
      t.setDaemon(true);
      t.start();
    }

    InetSocketAddress address() {
      return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    private void serve() {
      while (!socket.isClosed()) {
        try {
          Socket s = socket.accept();
          accepted.incrementAndGet();
          Thread t =
              new Thread(
                  () -> {
                    try (s) {
                      byte[] buffer = new byte[4096];
                      int n;
                      while ((n = s.getInputStream().read(buffer)) >= 0) {
                        received.addAndGet(n);
                        s.getOutputStream().write(buffer, 0, n);
                      }
                    } catch (IOException e) {
                      // the test closed it
                    }
                  },
                  "echo-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private EchoServer echo;
  private TcpProxy proxy;

  @BeforeEach
  void start() throws IOException {
    echo = new EchoServer();
    // Any 127/8 address is loopback: the proxy listens on one of its own, as in the clusters.
    proxy = new TcpProxy("test", new InetSocketAddress("127.0.9.7", 0), echo.address());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(proxy.address(), 2000);
    s.setSoTimeout(5000);
    return s;
  }

  private static byte[] roundTrip(Socket s, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    s.getOutputStream().write(bytes);
    return s.getInputStream().readNBytes(bytes.length);
  }

  /** True when nothing arrives within {@code millis} and the connection is still open. */
  private static boolean silentFor(Socket s, int millis) throws IOException {
    s.setSoTimeout(millis);
    try {
      s.getInputStream().read();
      return false; // a byte or an end: either way the link was not silent
    } catch (SocketTimeoutException e) {
      return true;
    } finally {
      s.setSoTimeout(5000);
    }
  }

  @Test
  void forwardsBothWays() throws IOException {
    try (Socket s = connect()) {
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), roundTrip(s, "hello"));
      assertArrayEquals("again".getBytes(StandardCharsets.UTF_8), roundTrip(s, "again"));
    }
    // Counted after each write, so possibly just after the echo arrived.
    Wait.until("both ways counted", Duration.ofSeconds(5), () -> proxy.forwardedBytes() >= 20);
  }

  @Test
  void aBlackholeDropsBytesSilentlyAndPassClosesTheDamagedConnection() throws IOException {
    try (Socket s = connect()) {
      roundTrip(s, "before");
      long before = echo.received.get();
      proxy.blackhole();
      s.getOutputStream().write("lost".getBytes(StandardCharsets.UTF_8));
      // Neither an answer nor a reset: the caller can only time out.
      assertTrue(silentFor(s, 300));
      Wait.until("the bytes to be dropped", Duration.ofSeconds(5), () -> proxy.droppedBytes() >= 4);
      assertEquals(before, echo.received.get(), "bytes crossed a cut link");

      proxy.pass();
      // The connection lost bytes mid-stream: it ends, and its peer would reconnect.
      InputStream in = s.getInputStream();
      assertTrue(endsSoon(in), "a damaged connection was left open after the heal");
    }
    try (Socket fresh = connect()) {
      assertArrayEquals("after".getBytes(StandardCharsets.UTF_8), roundTrip(fresh, "after"));
    }
  }

  private static boolean endsSoon(InputStream in) {
    try {
      return in.read() < 0;
    } catch (IOException e) {
      return true;
    }
  }

  @Test
  void aConnectionOpenedWhileBlackholedReachesNothing() throws IOException {
    int acceptedBefore = echo.accepted.get();
    proxy.blackhole();
    try (Socket s = connect()) {
      s.getOutputStream().write("knock".getBytes(StandardCharsets.UTF_8));
      assertTrue(silentFor(s, 300));
      assertEquals(acceptedBefore, echo.accepted.get(), "the target saw a connection through a cut link");
      proxy.pass();
      assertTrue(endsSoon(s.getInputStream()));
    }
    try (Socket s = connect()) {
      assertArrayEquals("open".getBytes(StandardCharsets.UTF_8), roundTrip(s, "open"));
    }
  }

  @Test
  void anUntouchedConnectionSurvivesAShortCut() throws IOException {
    try (Socket s = connect()) {
      roundTrip(s, "one");
      proxy.blackhole();
      proxy.pass();
      // No byte was lost, so the stream is intact and stays usable.
      assertArrayEquals("two".getBytes(StandardCharsets.UTF_8), roundTrip(s, "two"));
    }
  }

  @Test
  void aDelayHoldsEachReadBack() throws IOException {
    try (Socket s = connect()) {
      roundTrip(s, "warm");
      proxy.delay(Duration.ofMillis(200));
      long start = System.nanoTime();
      roundTrip(s, "slow");
      long millis = (System.nanoTime() - start) / 1_000_000;
      // Delayed on the way out and on the way back.
      assertTrue(millis >= 400, "round trip took " + millis + " ms");
    }
  }

  @Test
  void aDownTargetEndsTheConnection() throws IOException {
    var address = echo.address();
    echo.close();
    try (var dead = new TcpProxy("dead", new InetSocketAddress("127.0.9.8", 0), address);
        Socket s = new Socket()) {
      s.connect(dead.address(), 2000);
      s.setSoTimeout(5000);
      assertTrue(endsSoon(s.getInputStream()));
    }
  }

  @Test
  void closingStopsListening() throws IOException {
    var address = proxy.address();
    proxy.close();
    assertThrows(
        IOException.class,
        () -> {
          try (Socket s = new Socket()) {
            s.connect(address, 1000);
          }
        });
  }
}
