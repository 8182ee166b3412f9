package dev.grit.node.testing;

import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.Wait;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real {@code grit node} JVMs on loopback, for the tests where a crash
 * ({@code kill -9}) or a process boundary is the point. Each member's output goes to
 * {@code DIR/nI.log}.
 *
 * <p>{@link #startLinked} routes every Raft link through its own {@link TcpProxy}, so that one
 * link can be cut without the others. gRPC answers on the connection its caller opened, so one
 * proxy in front of each member could not cut a single direction of a pair; instead every member
 * names its peers by host name ({@code n2.grit.test}) and resolves those names through a hosts
 * file of its own ({@code -Djdk.net.hosts.file}): numbering members from 1, in member i's file its
 * own name is the address it binds ({@code 127.0.i.i}; Ratis binds its server to the host of its
 * own address) and peer j's name is {@code 127.0.i.j}, where the proxy of link i→j listens and
 * forwards to j. All of 127.0.0.0/8 is loopback, so nothing leaves the machine.
 * The Raft configuration carries the same {@code name:port} for everyone, so membership changes
 * keep the routing. The HTTP API and chunk fetches between members stay direct on 127.0.0.1.
 */
public final class NodeProcesses implements AutoCloseable {
  private final Path dir;
  private final int n;
  private final int[] raftPorts;
  private final int[] httpPorts;
  private final Process[] processes;
  private final List<String> extraArgs;
  private final Map<String, String> env;
  /** links[i][j] carries member i's connections to member j; null when not linked. */
  private final TcpProxy[][] links;
  /** The cluster's own CA, member certificates and tokens: members speak TLS, the API HTTPS. */
  public final TestSecrets secrets;
  private final HttpClient http;

  private NodeProcesses(
      Path dir, int n, Map<String, String> env, List<String> extraArgs, boolean linked)
      throws IOException {
    this.dir = dir;
    this.n = n;
    this.extraArgs = List.copyOf(extraArgs);
    this.env = Map.copyOf(env);
    this.raftPorts = new int[n];
    this.httpPorts = new int[n];
    this.processes = new Process[n];
    for (int i = 0; i < n; i++) {
      raftPorts[i] = Ports.take();
      httpPorts[i] = Ports.take();
    }
    var ids = new ArrayList<String>();
    for (int i = 0; i < n; i++) {
      ids.add(id(i));
    }
    this.secrets = TestSecrets.create(dir.resolve("secrets"), ids);
    this.http = secrets.http();
    this.links = linked ? new TcpProxy[n][n] : null;
    if (linked) {
      if (n > 250) {
        throw new IllegalArgumentException("at most 250 linked members");
      }
      try {
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            if (i != j) {
              links[i][j] =
                  new TcpProxy(
                      id(i) + "-" + id(j),
                      new InetSocketAddress(loopback(i, j), raftPorts[j]),
                      new InetSocketAddress(loopback(j, j), raftPorts[j]));
            }
          }
        }
      } catch (IOException e) {
        closeLinks();
        throw e;
      }
    }
  }

  /** Starts {@code n} members and waits until every one answers {@code /readyz}. */
  public static NodeProcesses start(Path dir, int n, String... extraArgs) throws IOException {
    return start(dir, n, Map.of(), extraArgs);
  }

  /** The same, with {@code env} added to every member's environment. */
  public static NodeProcesses start(Path dir, int n, Map<String, String> env, String... extraArgs)
      throws IOException {
    return launchAll(new NodeProcesses(dir, n, env, List.of(extraArgs), false));
  }

  /**
   * Like {@link #start}, with every Raft link between members through its own {@link TcpProxy}:
   * see {@link #partition}, {@link #heal} and {@link #link}.
   */
  public static NodeProcesses startLinked(Path dir, int n, String... extraArgs) throws IOException {
    return startLinked(dir, n, Map.of(), extraArgs);
  }

  /** The same, with {@code env} added to every member's environment. */
  public static NodeProcesses startLinked(
      Path dir, int n, Map<String, String> env, String... extraArgs) throws IOException {
    return launchAll(new NodeProcesses(dir, n, env, List.of(extraArgs), true));
  }

  private static NodeProcesses launchAll(NodeProcesses cluster) throws IOException {
    try {
      for (int i = 0; i < cluster.n; i++) {
        cluster.launch(i);
      }
      for (int i = 0; i < cluster.n; i++) {
        cluster.awaitReady(i);
      }
      return cluster;
    } catch (IOException | RuntimeException | Error e) {
      try {
        cluster.close();
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
      }
      throw e;
    }
  }

  public int size() {
    return n;
  }

  /** The host name members use for member i when linked. */
  public String host(int i) {
    return id(i) + ".grit.test";
  }

  /** The loopback address at which member i reaches member j (its own bind address when i = j). */
  private static String loopback(int i, int j) {
    return "127.0." + (i + 1) + "." + (j + 1);
  }

  /** The proxy that carries member {@code from}'s connections to member {@code to}. */
  public TcpProxy link(int from, int to) {
    if (links == null) {
      throw new IllegalStateException("started without link proxies");
    }
    return links[from][to];
  }

  /** Cuts every link into and out of member i; the others still reach each other. */
  public void partition(int i) {
    for (int j = 0; j < n; j++) {
      if (j != i) {
        link(i, j).blackhole();
        link(j, i).blackhole();
      }
    }
  }

  /** Every link passes again. */
  public void heal() {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i != j) {
          link(i, j).pass();
        }
      }
    }
  }

  public String id(int i) {
    return "n" + (i + 1);
  }

  /** The base URL of member i's API. */
  public String url(int i) {
    return "https://127.0.0.1:" + httpPorts[i];
  }

  /** The grit command line with this cluster's CA and an admin token. */
  public Grit grit(Path workDir) {
    return new Grit(workDir, secrets.clientEnv());
  }

  /** A client trusting this cluster's CA; requests get their token from {@link #request}. */
  public HttpClient http() {
    return http;
  }

  /** A request to {@code url} with an admin token. */
  public HttpRequest.Builder request(String url) {
    return secrets.request(url);
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
      list.add(id(i) + "=" + (links == null ? "127.0.0.1" : host(i)) + ":" + raftPorts[i]);
    }
    return String.join(",", list);
  }

  /**
   * Member i's own view of the names: itself where it binds, every peer at the proxy of its link
   * to that peer. A hosts file replaces the system's resolver entirely, so {@code localhost} is
   * listed too, and any other name fails instead of being looked up elsewhere.
   */
  private Path hostsFile(int i) throws IOException {
    var lines = new ArrayList<String>();
    lines.add("127.0.0.1 localhost");
    for (int j = 0; j < n; j++) {
      lines.add(loopback(i, j) + " " + host(j));
    }
    Path file = dir.resolve(id(i) + ".hosts");
    Files.write(file, lines);
    return file;
  }

  private void launch(int i) throws IOException {
    Files.createDirectories(dir);
    var cmd =
        new ArrayList<>(
            MainCommand.of(
                links == null
                    ? List.of()
                    : List.of("-Djdk.net.hosts.file=" + hostsFile(i).toAbsolutePath())));
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
    cmd.addAll(secrets.nodeArgs());
    cmd.addAll(extraArgs);
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
        () -> dumpThreads(i) + tail(i));
  }

  /**
   * Has member i's JVM print its threads into its log (SIGQUIT: the JVM writes them on its
   * standard output, which is the log), so a member that never got ready shows where it waits.
   */
  private String dumpThreads(int i) {
    Process p = processes[i];
    if (p == null || !p.isAlive()) {
      return "";
    }
    try {
      new ProcessBuilder("kill", "-QUIT", Long.toString(p.pid())).start().waitFor();
      Wait.until(
          id(i) + "'s thread dump",
          Duration.ofSeconds(10),
          () -> {
            try {
              return Files.readString(dir.resolve(id(i) + ".log")).contains("Full thread dump");
            } catch (IOException e) {
              return false;
            }
          });
      return "(its threads are dumped in " + dir.resolve(id(i) + ".log") + ")\n";
    } catch (IOException | AssertionError e) {
      return "(no thread dump: " + e.getMessage() + ")\n";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** The HTTP status member i answers for {@code path}, or -1 when it does not answer. */
  public int status(int i, String path) {
    try {
      var response =
          http.send(
              secrets.request(url(i) + path).timeout(Duration.ofSeconds(5)).build(),
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
            secrets.request(url(i) + path).timeout(Duration.ofSeconds(60)).build(),
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

  /** Starts member i again (after {@link #kill9}) on what its data directory holds. */
  public void start(int i) throws IOException {
    if (processes[i] != null) {
      throw new IllegalStateException(id(i) + " is running");
    }
    launch(i);
    awaitReady(i);
  }

  /** A lost disk: kill -9, remove the data directory, start on an empty one. */
  public void wipeAndRestart(int i) throws IOException, InterruptedException {
    kill9(i);
    Path data = dir.resolve(id(i));
    awaitUnmounted(data);
    deleteTree(data);
    launch(i);
    awaitReady(i);
  }

  /** A power cut: every member killed at once, then all started on their data. */
  public void restartAll() throws IOException, InterruptedException {
    for (int i = 0; i < n; i++) {
      kill9(i);
    }
    for (int i = 0; i < n; i++) {
      launch(i);
    }
    for (int i = 0; i < n; i++) {
      awaitReady(i);
    }
  }

  /** SIGSTOP: the JVM freezes (its scripts, in sessions of their own, go on). */
  public void sigstop(int i) throws IOException, InterruptedException {
    signal(i, "STOP");
  }

  /** SIGCONT after {@link #sigstop}. */
  public void sigcont(int i) throws IOException, InterruptedException {
    signal(i, "CONT");
  }

  private void signal(int i, String signal) throws IOException, InterruptedException {
    Process kill =
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid(i)))
            .redirectErrorStream(true)
            .start();
    String out = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -" + signal + " " + pid(i) + " failed: " + out);
    }
  }

  /** The process id of member i; fails when it is not running. */
  public long pid(int i) {
    if (processes[i] == null) {
      throw new IllegalStateException(id(i) + " is not running");
    }
    return processes[i].pid();
  }

  public boolean isRunning(int i) {
    return processes[i] != null && processes[i].isAlive();
  }

  /** A script the member runs now: its task and attempt, read from the script's environment. */
  public record RunningScript(long task, int attempt) {}

  /**
   * The attempts whose scripts member i runs at this moment, by the processes themselves: each
   * script is a child of the member's JVM whose environment names its task and attempt.
   */
  public List<RunningScript> runningScripts(int i) {
    var out = new ArrayList<RunningScript>();
    if (processes[i] == null) {
      return out;
    }
    processes[i]
        .children()
        .forEach(
            child -> {
              try {
                byte[] environ =
                    Files.readAllBytes(Path.of("/proc", Long.toString(child.pid()), "environ"));
                String task = null;
                String attempt = null;
                for (String entry :
                    new String(environ, StandardCharsets.UTF_8).split("\0")) {
                  if (entry.startsWith("GRIT_TASK_ID=")) {
                    task = entry.substring("GRIT_TASK_ID=".length());
                  } else if (entry.startsWith("GRIT_ATTEMPT=")) {
                    attempt = entry.substring("GRIT_ATTEMPT=".length());
                  }
                }
                if (task != null && attempt != null) {
                  out.add(new RunningScript(Long.parseLong(task), Integer.parseInt(attempt)));
                }
              } catch (IOException | RuntimeException e) {
                // it ended meanwhile, or is no script (the mount helper)
              }
            });
    return out;
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
    closeLinks();
    awaitUnmounted(dir);
  }

  private void closeLinks() {
    if (links == null) {
      return;
    }
    for (TcpProxy[] row : links) {
      for (TcpProxy link : row) {
        if (link != null) {
          link.close();
        }
      }
    }
  }

  /**
   * A killed member's FUSE mount is taken down by its helper a moment later. Now and then, after
   * a kill -9 under load, the helper exits and leaves a dead mount behind ("transport endpoint is
   * not connected"): that one is unmounted lazily here, as a member starting on the directory
   * would do.
   */
  private static void awaitUnmounted(Path under) {
    String prefix = under.toAbsolutePath().toString();
    try {
      Wait.until(
          "the FUSE mounts under " + prefix + " to go",
          Duration.ofSeconds(5),
          () -> mountsUnder(prefix).isEmpty());
      return;
    } catch (AssertionError e) {
      for (String mount : mountsUnder(prefix)) {
        try {
          new ProcessBuilder("fusermount", "-u", "-z", mount)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start()
              .waitFor(10, TimeUnit.SECONDS);
        } catch (IOException ignored) {
          // the wait below says what is left
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
    Wait.until(
        "the FUSE mounts under " + prefix + " to go",
        Duration.ofSeconds(30),
        () -> mountsUnder(prefix).isEmpty(),
        () -> String.join("\n", mountsUnder(prefix)));
  }

  /** Mount points under {@code prefix}, from this process's mount table. */
  private static List<String> mountsUnder(String prefix) {
    try {
      var out = new ArrayList<String>();
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] fields = line.split(" ");
        if (fields.length > 4 && fields[4].startsWith(prefix + "/")) {
          out.add(fields[4]);
        }
      }
      return out;
    } catch (IOException e) {
      return List.of();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

}
