package dev.grit.discovery;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Queue;

/**
 * fabric8's mock API server in CRUD mode: a real HTTP server on loopback (port 0) that stores
 * what it is sent and streams watch events, with a client of it.
 *
 * <p>It stops before the discoveries watching it are closed. On Vert.x 5 the server's close
 * waits for every connection to end, for at most 10 s; a watch that its client is closing at
 * that moment may outlast that (the test fails), while a watch still open is ended by the server
 * at once. So each discovery is handed to {@link #closedAfterStopping} rather than closed by
 * the test.
 */
final class MockApiServer implements AutoCloseable {
  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final List<AutoCloseable> watchers = new ArrayList<>();

  MockApiServer() {
    var responses = new HashMap<ServerRequest, Queue<ServerResponse>>();
    server =
        new KubernetesMockServer(
            new Context(Serialization.jsonMapper()),
            new MockWebServer(),
            responses,
            new KubernetesMixedDispatcher(responses),
            false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
  }

  KubernetesClient client() {
    return client;
  }

  /** Returns {@code watcher}, to be closed once the server has stopped. */
  <T extends AutoCloseable> T closedAfterStopping(T watcher) {
    watchers.add(watcher);
    return watcher;
  }

  @Override
  public void close() throws Exception {
    try {
      server.destroy();
    } finally {
      client.close();
      for (AutoCloseable watcher : watchers) {
        watcher.close();
      }
    }
  }
}
