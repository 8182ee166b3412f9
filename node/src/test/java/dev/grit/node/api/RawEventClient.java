package dev.grit.node.api;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * A GET over a TLS socket of its own that reads nothing until asked: a client that stops reading,
 * with a small receive buffer so the kernel holds little of what the server sends (TLS reads from
 * the socket only when the client does).
 */
final class RawEventClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private Head head;

  RawEventClient(TestServer server, String path, int receiveBufferBytes) throws IOException {
    Socket plain = new Socket();
    try {
      plain.setReceiveBufferSize(receiveBufferBytes); // before connecting: it sets the window
      plain.connect(new InetSocketAddress("127.0.0.1", server.api.port()), 5_000);
      socket =
          server.secrets.clientContext().getSocketFactory().createSocket(plain, "127.0.0.1", server.api.port(), true);
      socket
          .getOutputStream()
          .write(
              ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                      + "Authorization: Bearer " + server.secrets.token(dev.grit.node.auth.Role.READ)
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      in = new BufferedInputStream(socket.getInputStream());
    } catch (IOException e) {
      plain.close();
      throw e;
    }
  }

  /**
   * One response read to the end of the connection.
   *
   * @param body the body, de-chunked
   * @param complete whether a chunked body ended with its last chunk
   */
  record Response(int status, String contentType, String body, boolean complete, long bytesRead) {
    List<SseEvents.Event> events() throws Exception {
      return SseEvents.parse(body);
    }
  }

  /** The response's status line and the headers that matter here. */
  private record Head(int status, String contentType, boolean chunked, long bytes) {}

  /** The status code, reading only the response's head. */
  int status(Duration limit) throws IOException {
    return head(limit).status();
  }

  private Head head(Duration limit) throws IOException {
    if (head == null) {
      socket.setSoTimeout((int) limit.toMillis());
      String statusLine = line(in);
      long bytes = statusLine.length() + 2;
      String contentType = "";
      boolean chunked = false;
      for (String h = line(in); !h.isEmpty(); h = line(in)) {
        bytes += h.length() + 2;
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-type:")) {
          contentType = h.substring(13).trim();
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      head = new Head(Integer.parseInt(statusLine.split(" ")[1]), contentType, chunked, bytes + 2);
    }
    return head;
  }

  /**
   * Reads until the server closes the connection; fails when a read waits longer than {@code
   * limit}.
   */
  Response readToEnd(Duration limit) throws IOException {
    Head h = head(limit);
    socket.setSoTimeout((int) limit.toMillis());
    byte[] rest = in.readAllBytes();
    long bytesRead = h.bytes() + rest.length;
    if (!h.chunked()) {
      return new Response(
          h.status(), h.contentType(), new String(rest, StandardCharsets.UTF_8), true, bytesRead);
    }
    var body = new ByteArrayInputStream(rest);
    var out = new ByteArrayOutputStream();
    boolean complete = false;
    while (true) {
      String size = line(body);
      if (size.isEmpty()) {
        break; // the connection ended between chunks
      }
      int n = Integer.parseInt(size.split(";")[0].trim(), 16);
      if (n == 0) {
        complete = true;
        break;
      }
      byte[] chunk = body.readNBytes(n);
      out.write(chunk);
      if (chunk.length < n) {
        break; // the connection ended inside a chunk
      }
      line(body); // the CRLF after the chunk
    }
    return new Response(
        h.status(), h.contentType(), out.toString(StandardCharsets.UTF_8), complete, bytesRead);
  }

  /** One CRLF-terminated line without its end; empty at the end of the input. */
  private static String line(InputStream in) throws IOException {
    var out = new ByteArrayOutputStream();
    for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
      if (c != '\r') {
        out.write(c);
      }
    }
    return out.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
