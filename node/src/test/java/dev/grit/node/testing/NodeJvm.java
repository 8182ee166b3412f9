package dev.grit.node.testing;

import dev.grit.consensus.testing.Wait;
import java.io.File;
import java.io.IOException;
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
 * One {@code grit node} JVM started with exactly the arguments, JVM options and environment a
 * test gives it, for the tests of how nodes are configured and find each other. Its output goes to
 * {@code LOG}.
 */
public final class NodeJvm implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final Path log;
  private final String url;
  private final Process process;
  private final TestSecrets secrets;

  private NodeJvm(String name, Path log, String url, Process process, TestSecrets secrets) {
    this.name = name;
    this.log = log;
    this.url = url;
    this.process = process;
    this.secrets = secrets;
  }

  /**
   * Starts {@code grit} with {@code args}; {@code url} is where its API will answer, in plain
   * HTTP without tokens (a node on loopback without TLS).
   */
  public static NodeJvm start(
      String name, Path log, String url, List<String> jvmOptions, List<String> args, Map<String, String> env)
      throws IOException {
    return start(name, log, url, jvmOptions, args, env, null);
  }

  /**
   * As above, for a node started with {@code secrets}' TLS material and tokens: its API is asked
   * over HTTPS with an admin token.
   */
  public static NodeJvm start(
      String name,
      Path log,
      String url,
      List<String> jvmOptions,
      List<String> args,
      Map<String, String> env,
      TestSecrets secrets)
      throws IOException {
    var cmd = new ArrayList<>(MainCommand.of(jvmOptions));
    cmd.addAll(args);
    Files.createDirectories(log.getParent());
    var builder =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().putAll(env);
    return new NodeJvm(name, log, url, builder.start(), secrets);
  }

  public String url() {
    return url;
  }

  /** Waits until the node answers {@code /readyz} with 200. */
  public void awaitReady(Duration limit) {
    Wait.until(name + " to be ready", limit, () -> status("/readyz") == 200, this::tail);
  }

  /** The HTTP status the node answers for {@code path}, or -1 when it does not answer. */
  public int status(String path) {
    try {
      return http().send(
              request(path).timeout(Duration.ofSeconds(5)).build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** GET {@code path} as text; fails the test on anything but 200. */
  public String get(String path) throws IOException, InterruptedException {
    var response =
        http().send(
            request(path).timeout(Duration.ofSeconds(30)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new AssertionError(name + " answered " + response.statusCode() + " for " + path + ": " + response.body());
    }
    return response.body();
  }

  private HttpClient http() {
    return secrets == null ? HTTP : secrets.http();
  }

  private HttpRequest.Builder request(String path) {
    return secrets == null ? HttpRequest.newBuilder(URI.create(url + path)) : secrets.request(url + path);
  }

  public String tail() {
    try {
      var lines = Files.readAllLines(log);
      return name + " log:\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return name + ": no log";
    }
  }

  /** Waits for the process to end by itself and returns its exit status. */
  public int awaitExit(Duration limit) throws InterruptedException {
    if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still runs after " + limit.toSeconds() + " s\n" + tail());
    }
    return process.exitValue();
  }

  /** Everything the process wrote to stdout and stderr so far. */
  public List<String> output() throws IOException {
    return Files.readAllLines(log);
  }

  /** SIGTERM, as Kubernetes stops a pod; returns the exit status. */
  public int stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }
}
