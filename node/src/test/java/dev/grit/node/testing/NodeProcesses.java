package dev.grit.node.testing;

import dev.grit.consensus.testing.Wait;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real {@code grit node} JVMs on loopback, for the tests where a crash
 * ({@code kill -9}) or a process boundary is the point. Each member's output goes to
 * {@code DIR/nI.log}.
 */
public final class NodeProcesses implements AutoCloseable {
  private final Path dir;
  private final int n;
  private final int[] raftPorts;
  private final int[] httpPorts;
  private final Process[] processes;
  private final List<String> extraArgs;
  private final Map<String, String> env;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private NodeProcesses(Path dir, int n, Map<String, String> env, List<String> extraArgs)
      throws IOException {
    this.dir = dir;
    this.n = n;
    this.extraArgs = List.copyOf(extraArgs);
    this.env = Map.copyOf(env);
    this.raftPorts = new int[n];
    this.httpPorts = new int[n];
    this.processes = new Process[n];
    for (int i = 0; i < n; i++) {
      raftPorts[i] = freePort();
      httpPorts[i] = freePort();
    }
  }

  /** Starts {@code n} members and waits until every one answers {@code /readyz}. */
  public static NodeProcesses start(Path dir, int n, String... extraArgs) throws IOException {
    return start(dir, n, Map.of(), extraArgs);
  }

  /** The same, with {@code env} added to every member's environment. */
  public static NodeProcesses start(Path dir, int n, Map<String, String> env, String... extraArgs)
      throws IOException {
    var cluster = new NodeProcesses(dir, n, env, List.of(extraArgs));
    for (int i = 0; i < n; i++) {
      cluster.launch(i);
    }
    for (int i = 0; i < n; i++) {
      cluster.awaitReady(i);
    }
    return cluster;
  }

  public String id(int i) {
    return "n" + (i + 1);
  }

  /** The base URL of member i's API. */
  public String url(int i) {
    return "http://127.0.0.1:" + httpPorts[i];
  }

  /** Every member's API, comma-separated, as {@code --server} takes it. */
  public String urls() {
    var all = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      all.add(url(i));
    }
    return String.join(",", all);
  }

  private String peers() {
    var list = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      list.add(id(i) + "=127.0.0.1:" + raftPorts[i]);
    }
    return String.join(",", list);
  }

  private void launch(int i) throws IOException {
    var cmd = new ArrayList<String>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.grit.node.cli.Main");
    cmd.addAll(
        List.of(
            "node",
            "--id",
            id(i),
            "--peers",
            peers(),
            "--http",
            "127.0.0.1:" + httpPorts[i],
            "--data",
            dir.resolve(id(i)).toString(),
            "--slots",
            "2"));
    cmd.addAll(extraArgs);
    Files.createDirectories(dir);
    File log = dir.resolve(id(i) + ".log").toFile();
    var builder = new ProcessBuilder(cmd);
    builder.environment().putAll(env);
    processes[i] =
        builder
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .start();
  }

  public void awaitReady(int i) {
    Wait.until(
        id(i) + " to be ready",
        Duration.ofSeconds(60),
        () -> status(i, "/readyz") == 200,
        () -> tail(i));
  }

  /** The HTTP status member i answers for {@code path}, or -1 when it does not answer. */
  public int status(int i, String path) {
    try {
      var response =
          http.send(
              HttpRequest.newBuilder(URI.create(url(i) + path)).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.discarding());
      return response.statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** GET {@code path} from member i as bytes; fails the test on anything but 200. */
  public byte[] get(int i, String path) throws IOException, InterruptedException {
    var response =
        http.send(
            HttpRequest.newBuilder(URI.create(url(i) + path)).timeout(Duration.ofSeconds(60)).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    if (response.statusCode() != 200) {
      throw new AssertionError(id(i) + " answered " + response.statusCode() + " for " + path);
    }
    return response.body();
  }

  /** SIGKILL: nothing is handed over. */
  public void kill9(int i) throws InterruptedException {
    if (processes[i] != null) {
      processes[i].destroyForcibly();
      processes[i].waitFor(30, TimeUnit.SECONDS);
      processes[i] = null;
    }
  }

  /** SIGTERM and wait for it to exit; returns its exit status. */
  public int stop(int i) throws InterruptedException {
    Process p = processes[i];
    if (p == null) {
      return 0;
    }
    p.destroy();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    processes[i] = null;
    return p.exitValue();
  }

  public void restart(int i) throws IOException, InterruptedException {
    kill9(i);
    launch(i);
    awaitReady(i);
  }

  public String tail(int i) {
    try {
      var lines = Files.readAllLines(dir.resolve(id(i) + ".log"));
      return id(i) + " log:\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return id(i) + ": no log";
    }
  }

  @Override
  public void close() throws InterruptedException {
    for (int i = 0; i < n; i++) {
      kill9(i);
    }
    // A killed member's FUSE mount is taken down by its helper a moment later.
    String prefix = dir.toAbsolutePath().toString();
    Wait.until(
        "the members' FUSE mounts to go",
        Duration.ofSeconds(30),
        () -> {
          try {
            return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .noneMatch(line -> line.contains(" " + prefix + "/"));
          } catch (IOException e) {
            return true;
          }
        });
  }

  private static int freePort() throws IOException {
    try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
