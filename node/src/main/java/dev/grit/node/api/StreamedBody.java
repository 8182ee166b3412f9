package dev.grit.node.api;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a response body from a stream, piece by piece, after its headers went out. Reads happen on
 * {@code executor} (they may block on the object store), never on an I/O thread; the next piece is
 * read only when the previous one reached the socket, so memory stays at one piece plus the
 * stream's own buffer and a slow client slows the reads. A read error aborts the connection: the
 * client then sees a body shorter than its Content-Length, never wrong bytes.
 */
final class StreamedBody {
  private static final Logger LOG = LoggerFactory.getLogger(StreamedBody.class);

  private final ChannelHandlerContext ctx;
  private final EventExecutor executor;
  private final InputStream in;
  private final int pieceBytes;
  private final boolean keepAlive;

  private StreamedBody(
      ChannelHandlerContext ctx,
      EventExecutor executor,
      InputStream in,
      int pieceBytes,
      boolean keepAlive) {
    this.ctx = ctx;
    this.executor = executor;
    this.in = in;
    this.pieceBytes = pieceBytes;
    this.keepAlive = keepAlive;
  }

  /** Starts writing {@code in}; it is closed at the end, on error and on disconnect. */
  static void send(
      ChannelHandlerContext ctx,
      EventExecutor executor,
      InputStream in,
      int pieceBytes,
      boolean keepAlive) {
    var body = new StreamedBody(ctx, executor, in, pieceBytes, keepAlive);
    executor.execute(body::next);
  }

  private void next() {
    byte[] piece;
    try {
      piece = in.readNBytes(pieceBytes);
    } catch (IOException e) {
      LOG.warn("aborting a download: {}", e.getMessage());
      abort();
      return;
    }
    if (piece.length == 0) {
      closeInput();
      var last = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
      if (!keepAlive) {
        last.addListener(f -> ctx.close());
      }
      return;
    }
    ctx.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(piece)))
        .addListener(
            f -> {
              if (f.isSuccess()) {
                executor.execute(this::next);
              } else {
                abort();
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
