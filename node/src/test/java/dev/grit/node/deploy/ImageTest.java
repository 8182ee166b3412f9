package dev.grit.node.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Ports;
import dev.grit.consensus.testing.Wait;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container image as built ({@code mvn -Pimage package} → {@code target/grit-image.tar}),
 * checked without a container engine: its layers unpacked into a root file system, then its
 * entrypoint run there as its user with its environment, in a chroot inside a private mount
 * namespace ({@code unshare --mount}, which takes {@code /proc} and {@code /dev} with it when the
 * process ends). Runs only where the tar exists and as root (CI builds the tar first).
 */
@Tag("slow")
@Tag("image")
class ImageTest {
  private static final Path TAR = Path.of("target", "grit-image.tar");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  static Path root;
  static JsonNode config;

  @BeforeAll
  static void unpack() throws Exception {
    assumeTrue(Files.isRegularFile(TAR), "no image tar: build it with mvn -Pimage package");
    assumeTrue("root".equals(System.getProperty("user.name")), "chroot and mounts need root");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/unshare")), "unshare (util-linux) missing");
    Path archive = Files.createDirectories(dir.resolve("archive"));
    run(List.of("tar", "-xf", TAR.toAbsolutePath().toString(), "-C", archive.toString()));
    JsonNode manifest = JSON.readTree(archive.resolve("manifest.json").toFile()).get(0);
    root = Files.createDirectories(dir.resolve("root"));
    for (JsonNode layer : manifest.path("Layers")) {
      run(
          List.of(
              "tar",
              "--warning=no-unknown-keyword",
              "-xf",
              archive.resolve(layer.asText()).toString(),
              "-C",
              root.toString()));
    }
    config = JSON.readTree(archive.resolve(manifest.path("Config").asText()).toFile()).path("config");
    Files.createDirectories(root.resolve("proc"));
    Files.createDirectories(root.resolve("dev"));
    System.out.printf(
        "image: %s is %.1f MiB, unpacked %.1f MiB%n",
        TAR,
        Files.size(TAR) / 1048576.0,
        size(root) / 1048576.0);
  }

  private static long size(Path tree) throws IOException {
    try (Stream<Path> files = Files.walk(tree)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }

  private static void run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), String.join(" ", cmd));
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + out);
  }

  /**
   * The image's entrypoint with {@code args}, as its user, in its working directory, with its
   * environment only, in the unpacked root; output to {@code log}.
   */
  static Process start(Path log, String... args) throws IOException {
    var entry = new ArrayList<String>();
    config.path("Entrypoint").forEach(a -> entry.add(a.asText()));
    entry.addAll(List.of(args));
    return exec(log, entry);
  }

  /** {@code command} as {@link #start} runs the entrypoint. */
  static Process exec(Path log, List<String> command) throws IOException {
    String rootDir = root.toString();
    String user = config.path("User").asText();
    String workDir = config.path("WorkingDir").asText("/");
    var script =
        new StringBuilder(
            // The root a mount point of its own, as a container's is: Java finds a file's
            // store by the mount it is under.
            "mount --bind \"$ROOT\" \"$ROOT\" && mount -t proc proc \"$ROOT/proc\""
                + " && mount --rbind /dev \"$ROOT/dev\" && exec chroot"
                + " --userspec=" + user + " \"$ROOT\" /bin/sh -c 'cd " + workDir + " && exec \"$@\"' sh");
    for (String a : command) {
      script.append(" '").append(a.replace("'", "'\\''")).append('\'');
    }
    var pb = new ProcessBuilder("unshare", "--mount", "sh", "-c", script.toString());
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    pb.environment().put("ROOT", rootDir);
    for (JsonNode e : config.path("Env")) {
      String kv = e.asText();
      int eq = kv.indexOf('=');
      if (!kv.startsWith("PATH=")) {
        pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    return pb.redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
  }

  /** Through the image's {@code grit} command, as {@code kubectl exec grit-0 -- grit ...} runs it. */
  @Test
  void lintRunsInTheImage() throws Exception {
    Path manifest = root.resolve("tmp/lint.toml");
    Files.writeString(
        manifest,
        "[[step]]\nname = \"hello\"\nscript = \"echo hi > $OUTPUT_DIR/greeting\"\n");
    Path log = dir.resolve("lint.log");
    Process p = exec(log, List.of("/usr/local/bin/grit", "lint", "/tmp/lint.toml"));
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(log));
  }

  @Test
  void aOneNodeClusterAnswersReadyzAndStopsCleanlyOnSigterm() throws Exception {
    int raft = Ports.take();
    int http = Ports.take();
    Path log = dir.resolve("node.log");
    Process node =
        start(
            log,
            "node",
            "--id",
            "n1",
            "--peers",
            "n1=127.0.0.1:" + raft,
            "--http",
            "127.0.0.1:" + http,
            "--data",
            "/tmp/n1");
    try {
      HttpClient client = HttpClient.newHttpClient();
      Wait.until(
          "/readyz of the node in the image",
          Duration.ofSeconds(120),
          () -> {
            if (!node.isAlive()) {
              throw new AssertionError("the node ended:\n" + read(log));
            }
            try {
              HttpResponse<String> r =
                  client.send(
                      HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/readyz"))
                          .timeout(Duration.ofSeconds(5))
                          .build(),
                      HttpResponse.BodyHandlers.ofString());
              return r.statusCode() == 200;
            } catch (IOException e) {
              return false;
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return false;
            }
          });
      node.destroy(); // SIGTERM
      assertTrue(node.waitFor(60, TimeUnit.SECONDS), "stopped within a minute");
      assertEquals(0, node.exitValue(), read(log));
    } finally {
      node.destroyForcibly();
    }
  }

  private static String read(Path log) {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return e.toString();
    }
  }
}
