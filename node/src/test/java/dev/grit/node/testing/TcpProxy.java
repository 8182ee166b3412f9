package dev.grit.node.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One direction of one link between two peers, on loopback: accepts connections on {@code listen}
 * and forwards their bytes both ways to {@code target}. A test can cut the link, as a network
 * partition does: {@link #blackhole()} keeps every connection open but drops every byte in both
 * directions (no reset, no close, so the peers learn of it only by their own time-outs), and
 * connections opened meanwhile are accepted and starved the same way. {@link #pass()} forwards
 * again. A connection that lost bytes cannot carry its protocol any further (a frame was cut), so
 * {@code pass()} closes it and the peer reconnects through a clean one. {@link #delay} adds
 * latency to every read that is forwarded.
 *
 * <p>Every connection costs two threads: a handful of Raft channels, not a server.
 */
public final class TcpProxy implements AutoCloseable {
  private static final int BUFFER = 64 * 1024;
  private static final int CONNECT_TIMEOUT_MILLIS = 2000;

  private final ServerSocket server;
  private final InetSocketAddress target;
  private final String name;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicLong forwarded = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong accepted = new AtomicLong();
  private final Thread acceptor;
  private volatile boolean blackholed;
  private volatile long delayMillis;
  private volatile boolean closed;

  /** Listens on {@code listen} at once; connections are forwarded to {@code target}. */
  public TcpProxy(String name, InetSocketAddress listen, InetSocketAddress target) throws IOException {
    this.name = name;
    this.target = target;
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(listen, 50);
    this.acceptor = new Thread(this::acceptLoop, "proxy-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** Drops every byte from now on, both ways, on open connections and new ones alike. */
  public void blackhole() {
    blackholed = true;
  }

  /** Forwards again; connections that lost bytes are closed, so their peers open clean ones. */
  public void pass() {
    blackholed = false;
    for (Connection c : connections) {
      if (c.damaged) {
        c.close();
      }
    }
  }

  public boolean isBlackholed() {
    return blackholed;
  }

  /** Holds each forwarded read back this long (zero: none). */
  public void delay(Duration delay) {
    delayMillis = delay.toMillis();
  }

  /** Connections open now. */
  public int connections() {
    return connections.size();
  }

  /** Connections accepted so far, cut or not. */
  public long acceptedConnections() {
    return accepted.get();
  }

  public long forwardedBytes() {
    return forwarded.get();
  }

  public long droppedBytes() {
    return dropped.get();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      accepted.incrementAndGet();
      try {
        client.setTcpNoDelay(true);
        if (blackholed) {
          // A partition lets no connection through either: the caller's connect succeeds (the
          // proxy is local) but nothing ever reaches the other side.
          var c = new Connection(client, null);
          c.damaged = true;
          connections.add(c);
          c.pump(client, null, "starve");
          continue;
        }
        Socket upstream = new Socket();
        try {
          upstream.setTcpNoDelay(true);
          upstream.connect(target, CONNECT_TIMEOUT_MILLIS);
        } catch (IOException e) {
          // The peer is down: the caller sees its connection end, as it would see a refusal.
          upstream.close();
          client.close();
          continue;
        }
        var c = new Connection(client, upstream);
        connections.add(c);
        c.pump(client, upstream, "out");
        c.pump(upstream, client, "back");
      } catch (IOException e) {
        closeQuietly(client);
      }
    }
  }

  /** One accepted connection and, unless it was accepted while blackholed, its upstream. */
  private final class Connection {
    private final Socket client;
    private final Socket upstream;
    volatile boolean damaged;

    Connection(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void pump(Socket from, Socket to, String direction) {
      Thread t = new Thread(() -> copy(from, to), "proxy-" + name + "-" + direction);
      t.setDaemon(true);
      t.start();
    }

    private void copy(Socket from, Socket to) {
      byte[] buffer = new byte[BUFFER];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to == null ? null : to.getOutputStream();
        while (true) {
          int n = in.read(buffer);
          if (n < 0) {
            break;
          }
          if (blackholed || damaged || out == null) {
            damaged = true;
            dropped.addAndGet(n);
            continue;
          }
          long delay = delayMillis;
          if (delay > 0) {
            Thread.sleep(delay);
          }
          out.write(buffer, 0, n);
          out.flush();
          forwarded.addAndGet(n);
        }
      } catch (IOException e) {
        // closed under us (pass, close) or reset by one side: ends the connection like an EOF
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // One side ended: so does the connection, both ways (Raft's gRPC never half-closes). On a
      // cut link the other side must not learn of it: pass() closes it later.
      if (blackholed) {
        damaged = true;
      }
      if (!damaged) {
        close();
      }
    }

    void close() {
      connections.remove(this);
      closeQuietly(client);
      if (upstream != null) {
        closeQuietly(upstream);
      }
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing left to do
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // nothing left to do
    }
    for (Connection c : connections) {
      c.close();
    }
    try {
      acceptor.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + " " + address() + " -> " + target + (blackholed ? " (blackholed)" : "");
  }
}
