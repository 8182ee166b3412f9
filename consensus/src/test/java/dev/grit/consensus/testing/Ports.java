package dev.grit.consensus.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for test servers that must be named before they listen: Raft peers are given each
 * other's addresses at start, and a restarted member must come back on its own.
 *
 * <p>A port from {@code bind(0)} comes from the kernel's ephemeral range, from which every
 * outgoing connection on the machine also takes its local port: picked, closed and bound a
 * moment later, it can be taken meanwhile ("Address already in use"). These ports come from
 * below that range, which the kernel never hands out by itself, and each is held by a lock file
 * for the life of this JVM (released by the OS when it dies, however), so test JVMs running side
 * by side never pick the same one. What is left is a process that binds such a port on purpose;
 * the process harness retries a start that failed so.
 */
public final class Ports {
  private static final Path LOCKS =
      Path.of(System.getProperty("java.io.tmpdir"), "grit-test-ports");
  /** Held until the JVM exits: a lock released by collection would free its port. */
  private static final List<FileLock> HELD = new ArrayList<>();
  private static final Set<Integer> TAKEN = new HashSet<>();

  private static final int[] RANGE = range();

  private Ports() {}

  /** A port no other test JVM holds and nothing listens on now, reserved for this JVM. */
  public static synchronized int take() {
    try {
      Files.createDirectories(LOCKS);
      int size = RANGE[1] - RANGE[0];
      int start = ThreadLocalRandom.current().nextInt(size);
      for (int k = 0; k < size; k++) {
        int port = RANGE[0] + (start + k) % size;
        if (TAKEN.contains(port)) {
          continue; // a JVM's own lock is not seen by tryLock: it throws instead
        }
        FileChannel channel =
            FileChannel.open(
                LOCKS.resolve(port + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = tryLock(channel);
        if (lock == null) {
          channel.close();
          continue;
        }
        if (bindable(port)) {
          HELD.add(lock);
          TAKEN.add(port);
          return port;
        }
        lock.release();
        channel.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no free test port in " + RANGE[0] + ".." + RANGE[1]);
  }

  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  private static boolean bindable(int port) {
    try (var socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** [from, to): ports below the ephemeral range, or above it when too few are below. */
  private static int[] range() {
    int low = 32768;
    int high = 60999;
    try {
      String[] bounds =
          Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
      low = Integer.parseInt(bounds[0]);
      high = Integer.parseInt(bounds[1]);
    } catch (IOException | RuntimeException e) {
      // not Linux: keep the kernel's usual default
    }
    if (low - 15000 >= 2000) {
      return new int[] {15000, low};
    }
    if (65535 - high >= 2000) {
      return new int[] {high + 1, 65536};
    }
    throw new IllegalStateException(
        "the ephemeral port range " + low + ".." + high + " leaves no room for test ports");
  }
}
