package dev.grit.node.api;

import dev.grit.consensus.raft.CannotListenException;
import dev.grit.consensus.tls.MemberTls;
import dev.grit.node.Node;
import dev.grit.node.NodeSecurity;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The HTTP/1.1 JSON API of one {@link Node}: runs, events, resources, objects, tasks, cluster,
 * probes and metrics, and the web UI's files ({@link UiResource}); the route table, with who may
 * use each route, is in {@code routes} below. Close it before its node: handlers read the node's
 * record.
 *
 * <p>Security: with the node's TLS material the API speaks HTTPS only (a plain HTTP request gets a
 * 400 saying so); with its tokens every route but the probes and the UI's files needs a bearer
 * token of the route's role, and chunk fetches need a member certificate ({@link Authenticator}).
 *
 * <p>Threading: netty's I/O threads only parse, route and write; every handler runs on a small pool
 * of handler threads (each connection keeps one), where blocking reads of the local record and
 * object store are fine. Proposals through Raft are asynchronous and answer when they commit.
 *
 * <p>Errors: every failure is a JSON {@code {"error", "detail"}} body with a 4xx/5xx status; a
 * stack trace never reaches a client. {@link #listen} fails with a {@link CannotListenException}
 * when the address cannot be bound.
 */
public final class ApiServer implements AutoCloseable {
  /** The largest request body (a manifest): larger ones get 413. */
  public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private static final Duration PROPOSAL_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration READ_BARRIER_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration HEARTBEAT = Duration.ofSeconds(10);

  private final Node node;
  private final EventLoopGroup boss;
  private final EventLoopGroup io;
  private final EventExecutorGroup handlers;
  private final NodeMetrics metrics;
  private final RunEvents events;
  private final Channel channel;

  private ApiServer(
      Node node,
      EventLoopGroup boss,
      EventLoopGroup io,
      EventExecutorGroup handlers,
      NodeMetrics metrics,
      RunEvents events,
      Channel channel) {
    this.node = node;
    this.boss = boss;
    this.io = io;
    this.handlers = handlers;
    this.metrics = metrics;
    this.events = events;
    this.channel = channel;
  }

  /** Serves {@code node} on {@code bind} (port 0 picks a free port; see {@link #port()}). */
  public static ApiServer start(Node node, InetSocketAddress bind) throws IOException {
    return start(node, listen(bind), EventStreamLimits.DEFAULT);
  }

  /** Serves {@code node} on {@code bind} with the given limits on event streams. */
  public static ApiServer start(Node node, InetSocketAddress bind, EventStreamLimits limits)
      throws IOException {
    return start(node, listen(bind), limits);
  }

  /**
   * Binds {@code bind} now, before the node starts: a taken port fails at once (a {@link
   * CannotListenException}), and with port 0 the node knows the port it got before it registers its
   * address. Connections wait in the backlog until {@link #start(Node, ServerSocketChannel,
   * EventStreamLimits)}.
   */
  public static ServerSocketChannel listen(InetSocketAddress bind) throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open();
    try {
      // As netty's own bind would: connections of a previous run in TIME_WAIT are no conflict.
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(bind, 128);
      return channel;
    } catch (IOException e) {
      channel.close();
      throw new CannotListenException(bind.getHostString() + ":" + bind.getPort(), e);
    }
  }

  /**
   * Serves {@code node} on a socket {@link #listen} bound, with the given limits on event streams;
   * closing the server closes the socket.
   */
  public static ApiServer start(Node node, ServerSocketChannel listening, EventStreamLimits limits)
      throws IOException {
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup io = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    EventExecutorGroup handlers =
        new DefaultEventExecutorGroup(4, new DefaultThreadFactory("grit-api", true));
    var events = new RunEvents(node, HEARTBEAT, limits);
    var metrics = new NodeMetrics(node, events);
    SocketAddress bind = null;
    try {
      bind = listening.getLocalAddress();
      var barrier = new ReadBarrier(node.raft(), handlers, READ_BARRIER_TIMEOUT);
      NodeSecurity security = node.config().security();
      SslContext ssl = security.tls() == null ? null : sslContext(security.tls());
      var authenticator = new Authenticator(security.tokens(), ssl != null);
      var router = new Router(barrier, handlers, authenticator);
      var cluster = new ClusterResource(node);
      routes(router, node, authenticator, cluster, metrics, barrier, events);
      var bootstrap =
          new ServerBootstrap()
              .group(boss, io)
              .channelFactory(() -> new NioServerSocketChannel(listening))
              .childHandler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      if (ssl != null) {
                        ch.pipeline().addLast(new HttpsOnly(ssl));
                      }
                      ch.pipeline()
                          .addLast(new HttpServerCodec())
                          .addLast(new BodyLimit(MAX_BODY_BYTES))
                          .addLast(router);
                    }
                  });
      // The socket is bound already: registering it with the event loop starts accepting.
      Channel channel = bootstrap.register().sync().channel();
      cluster.setHttpAddress(httpAddress(node, (InetSocketAddress) channel.localAddress()));
      node.events().subscribe(metrics);
      return new ApiServer(node, boss, io, handlers, metrics, events, channel);
    } catch (Exception e) {
      listening.close();
      shutdown(boss, io, handlers);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("cannot serve the API on " + bind + ": " + e.getMessage(), e);
    }
  }

  /**
   * The API's TLS: the member certificate (reloaded when it rotates), and client certificates of
   * the cluster's CA asked for but not required — members present theirs to fetch chunks, users
   * bring tokens instead.
   */
  private static SslContext sslContext(MemberTls tls) throws SSLException {
    return SslContextBuilder.forServer(tls.keyManager())
        .trustManager(tls.trustManager())
        .clientAuth(ClientAuth.OPTIONAL)
        .sslProvider(SslProvider.JDK)
        .protocols("TLSv1.3", "TLSv1.2")
        .build();
  }

  private static void routes(
      Router r,
      Node node,
      Authenticator authenticator,
      ClusterResource cluster,
      NodeMetrics metrics,
      ReadBarrier barrier,
      RunEvents events) {
    var runs = new RunsResource(node, InstantSource.system(), PROPOSAL_TIMEOUT, barrier);
    var objects = new ObjectsResource(node);
    var tasks = new TasksResource(node);
    var ui = new UiResource();
    r.add(HttpMethod.POST, "/v1/runs", Access.SUBMIT, runs::submit)
        .add(HttpMethod.GET, "/v1/runs", Access.READ, runs::list)
        .add(HttpMethod.GET, "/v1/runs/{id}", Access.READ, runs::get)
        .add(HttpMethod.GET, "/v1/runs/{id}/events", Access.READ, events::stream)
        .add(HttpMethod.GET, "/v1/runs/{id}/steps", Access.READ, runs::steps)
        .add(HttpMethod.GET, "/v1/runs/{id}/tasks", Access.READ, runs::tasks)
        .add(HttpMethod.POST, "/v1/runs/{id}/cancel", Access.SUBMIT, runs::cancel)
        .add(HttpMethod.POST, "/v1/runs/{id}/retry", Access.SUBMIT, runs::retry)
        .add(HttpMethod.POST, "/v1/plan", Access.READ, runs::plan)
        .add(HttpMethod.POST, "/v1/gc", Access.ADMIN, runs::gc)
        .add(HttpMethod.GET, "/v1/pipelines/{pipeline}/resources", Access.READ, objects::pipelineResources)
        .add(HttpMethod.GET, "/v1/resources", Access.READ, objects::resourcesNamed)
        .add(HttpMethod.GET, "/v1/resources/{ref}/lineage", Access.READ, objects::lineage)
        .add(HttpMethod.GET, "/v1/objects/{hash}", Access.READ, objects::object)
        .add(HttpMethod.GET, "/v1/chunks/{hash}", Access.MEMBER, objects::chunk)
        .add(HttpMethod.GET, "/v1/tasks/{id}", Access.READ, tasks::get)
        .add(HttpMethod.GET, "/v1/tasks/{id}/log", Access.READ, tasks::log)
        .add(HttpMethod.GET, "/v1/attempts/{task}/{n}/live", Access.MEMBER, tasks::liveHere)
        .add(HttpMethod.GET, "/v1/cluster", Access.READ, cluster::cluster)
        .add(HttpMethod.POST, "/v1/cluster/members", Access.ADMIN, cluster::addMember)
        .add(HttpMethod.DELETE, "/v1/cluster/members/{id}", Access.ADMIN, cluster::removeMember)
        .add(HttpMethod.GET, "/v1/whoami", Access.READ, authenticator::whoami)
        .add(HttpMethod.GET, "/", Access.OPEN, ui::index)
        .add(HttpMethod.GET, "/ui/{file}", Access.OPEN, ui::file)
        .add(HttpMethod.GET, "/livez", Access.OPEN, cluster::livez)
        .add(HttpMethod.GET, "/readyz", Access.OPEN, cluster::readyz)
        .add(
            HttpMethod.GET,
            "/metrics",
            Access.READ,
            ex -> ex.send(HttpResponseStatus.OK, metrics.scrape(), NodeMetrics.CONTENT_TYPE));
  }

  /** host:port where peers and clients reach this API: the bound one, or the Raft host's. */
  private static String httpAddress(Node node, InetSocketAddress local) {
    String host = local.getAddress().getHostAddress();
    if (local.getAddress().isAnyLocalAddress()) {
      String self = node.config().id();
      host =
          node.config().peers().stream()
              .filter(p -> p.id().equals(self))
              .findFirst()
              .map(p -> p.host())
              .orElse(host);
    }
    return host + ":" + local.getPort();
  }

  /** The event streams endpoint, for tests that look at its counters. */
  RunEvents events() {
    return events;
  }

  /** The port the server listens on. */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  /** Stops accepting, closes open connections (event streams end) and stops the threads. */
  @Override
  public void close() {
    node.events().unsubscribe(metrics);
    channel.close().awaitUninterruptibly();
    shutdown(boss, io, handlers);
  }

  private static void shutdown(EventExecutorGroup... groups) {
    for (var g : groups) {
      g.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
    for (var g : groups) {
      g.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }
}
