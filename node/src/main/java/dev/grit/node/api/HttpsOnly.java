package dev.grit.node.api;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;

/**
 * TLS on the API's port, and a plain answer for a client that speaks plain HTTP to it: one 400 with
 * a JSON error saying to use {@code https://}, then the connection closes. Nothing of such a
 * request is read or served (a token it carried was sent in the clear, but is not used here).
 */
final class HttpsOnly extends OptionalSslHandler {
  private static final byte[] REFUSAL;

  static {
    byte[] body =
        Json.bytes(
            Json.error(
                "this API speaks HTTPS", "use https:// (with the cluster's CA certificate)"));
    String head =
        "HTTP/1.1 400 Bad Request\r\n"
            + "Content-Type: application/json\r\n"
            + "Content-Length: "
            + body.length
            + "\r\n"
            + "Connection: close\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    REFUSAL = new byte[headBytes.length + body.length];
    System.arraycopy(headBytes, 0, REFUSAL, 0, headBytes.length);
    System.arraycopy(body, 0, REFUSAL, headBytes.length, body.length);
  }

  HttpsOnly(SslContext context) {
    super(context);
  }

  @Override
  protected ChannelHandler newNonSslHandler(ChannelHandlerContext context) {
    return new ChannelInboundHandlerAdapter() {
      private boolean answered;

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        if (!answered) {
          answered = true;
          ByteBuf refusal = Unpooled.wrappedBuffer(REFUSAL);
          ctx.writeAndFlush(refusal).addListener(ChannelFutureListener.CLOSE);
        }
      }
    };
  }
}
