package dev.grit.node.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a response of known length whose body comes from a stream, piece by piece. Reads happen
 * on {@code executor} (they may block on the object store), never on an I/O thread; the next piece
 * is read only when the previous one reached the socket, so memory stays at one piece plus the
 * stream's own buffer and a slow client slows the reads. A read error aborts the connection: the
 * client then sees a body shorter than its Content-Length, never wrong bytes.
 *
 * <p>The last bytes go out as the response's last content, not before it: a keep-alive client
 * sends its next request as soon as it has Content-Length bytes, and that request's response must
 * find this one ended, or the two interleave on the connection.
 */
final class StreamedBody {
  private static final Logger LOG = LoggerFactory.getLogger(StreamedBody.class);

  private final ChannelHandlerContext ctx;
  private final EventExecutor executor;
  private final InputStream in;
  private final int pieceBytes;
  private final boolean keepAlive;
  private long remaining;

  private StreamedBody(
      ChannelHandlerContext ctx,
      EventExecutor executor,
      InputStream in,
      long length,
      int pieceBytes,
      boolean keepAlive) {
    this.ctx = ctx;
    this.executor = executor;
    this.in = in;
    this.remaining = length;
    this.pieceBytes = pieceBytes;
    this.keepAlive = keepAlive;
  }

  /**
   * Sends {@code head}, given its Content-Length and Connection headers, then {@code length} bytes
   * of {@code in}; {@code in} is closed at the end, on error and on disconnect.
   */
  static void send(
      ChannelHandlerContext ctx,
      EventExecutor executor,
      HttpResponse head,
      InputStream in,
      long length,
      int pieceBytes) {
    var body =
        new StreamedBody(ctx, executor, in, length, pieceBytes, HttpUtil.isKeepAlive(head));
    // Flushed with the first piece: an empty body's head and end leave together.
    ctx.write(head);
    executor.execute(body::next);
  }

  private void next() {
    int want = (int) Math.min(pieceBytes, remaining);
    byte[] piece;
    try {
      piece = in.readNBytes(want);
    } catch (IOException e) {
      LOG.warn("aborting a download: {}", e.getMessage());
      abort();
      return;
    }
    if (piece.length < want) {
      LOG.warn("aborting a download: the stream ended {} bytes short", remaining - piece.length);
      abort();
      return;
    }
    remaining -= want;
    boolean last = remaining == 0;
    var content =
        last
            ? new DefaultLastHttpContent(Unpooled.wrappedBuffer(piece))
            : new DefaultHttpContent(Unpooled.wrappedBuffer(piece));
    ctx.writeAndFlush(content)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                abort();
              } else if (!last) {
                executor.execute(this::next);
              } else {
                closeInput();
                if (!keepAlive) {
                  ctx.close();
                }
              }
            });
  }

  private void abort() {
    closeInput();
    ctx.close();
  }

  private void closeInput() {
    try {
      in.close();
    } catch (IOException e) {
      // nothing was left to read
    }
  }
}
