package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LogTailTest {
  private static byte[] counting(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i % 251);
    }
    return b;
  }

  @Test
  void keepsEverythingWhenItFits() throws Exception {
    byte[] all = counting(100);
    LogTail tail = LogTail.pump(new ByteArrayInputStream(all), 128);
    assertArrayEquals(all, tail.await(10_000));
  }

  @Test
  void keepsTheLastBytesAcrossManyReadsAndOneTooLarge() throws Exception {
    byte[] all = counting(100_003);
    // Reads of every size, one of them larger than the ring.
    InputStream uneven =
        new ByteArrayInputStream(all) {
          private int call;

          @Override
          public synchronized int read(byte[] b, int off, int len) {
            int[] sizes = {1, 7, 100, 1000, 3, 5000};
            return super.read(b, off, Math.min(len, sizes[call++ % sizes.length]));
          }
        };
    LogTail tail = LogTail.pump(uneven, 1000);
    assertArrayEquals(Arrays.copyOfRange(all, all.length - 1000, all.length), tail.await(10_000));
    LogTail big = LogTail.pump(new ByteArrayInputStream(all), 1000);
    assertArrayEquals(Arrays.copyOfRange(all, all.length - 1000, all.length), big.await(10_000));
  }

  @Test
  void aPipeStillOpenGivesWhatCameSoFar() throws Exception {
    var writer = new PipedOutputStream();
    var reader = new PipedInputStream(writer);
    LogTail tail = LogTail.pump(reader, 64);
    writer.write(new byte[] {1, 2, 3});
    writer.flush();
    byte[] got = tail.await(200);
    for (int i = 0; i < 100 && got.length < 3; i++) {
      got = tail.await(50);
    }
    assertArrayEquals(new byte[] {1, 2, 3}, got);
    writer.close();
  }

  /** Reads until {@code total} bytes have come (or the deadline passes). */
  private static LogTail.Read readUntil(LogTail tail, long from, long total) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    LogTail.Read r = tail.read(from);
    while (r.next() < total && System.nanoTime() < deadline) {
      Thread.sleep(5);
      r = tail.read(from);
    }
    return r;
  }

  @Test
  void readsWhatCameSinceAnOffsetWhileThePipeIsOpen() throws Exception {
    var writer = new PipedOutputStream();
    LogTail tail = LogTail.pump(new PipedInputStream(writer), 64);
    LogTail.Read empty = tail.read(0);
    assertEquals(0, empty.bytes().length);
    assertFalse(empty.ended());

    writer.write(new byte[] {1, 2, 3});
    writer.flush();
    LogTail.Read first = readUntil(tail, 0, 3);
    assertArrayEquals(new byte[] {1, 2, 3}, first.bytes());
    assertEquals(3, first.next());
    assertFalse(first.skipped());
    assertFalse(first.ended());

    writer.write(new byte[] {4, 5});
    writer.flush();
    LogTail.Read second = readUntil(tail, first.next(), 5);
    assertArrayEquals(new byte[] {4, 5}, second.bytes());
    assertEquals(5, second.next());
    // An offset past the end reads nothing and says where the end is.
    assertEquals(0, tail.read(99).bytes().length);
    assertEquals(5, tail.read(99).next());

    writer.close();
    tail.await(10_000);
    LogTail.Read last = tail.read(second.next());
    assertEquals(0, last.bytes().length);
    assertTrue(last.ended());
  }

  @Test
  void anOffsetThatLeftTheRingReadsFromTheOldestKeptByteAndSaysSo() throws Exception {
    byte[] all = counting(1000);
    LogTail tail = LogTail.pump(new ByteArrayInputStream(all), 64);
    tail.await(10_000);
    LogTail.Read late = tail.read(10);
    assertEquals(1000, late.next());
    assertTrue(late.skipped());
    assertTrue(late.ended());
    assertArrayEquals(Arrays.copyOfRange(all, 936, 1000), late.bytes());
    LogTail.Read recent = tail.read(990);
    assertFalse(recent.skipped());
    assertArrayEquals(Arrays.copyOfRange(all, 990, 1000), recent.bytes());
    // The ring wrapped: a read that spans its end comes back in order.
    LogTail.Read wrapped = tail.read(950);
    assertArrayEquals(Arrays.copyOfRange(all, 950, 1000), wrapped.bytes());
  }
}
