package dev.grit.engine.execute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
}
