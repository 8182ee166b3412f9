package dev.grit.node.api;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.auth.Role;
import dev.grit.node.testing.Browser;
import dev.grit.node.testing.Examples;
import dev.grit.node.testing.NodeCluster;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The documentation's pictures of the web UI (docs/ui-runs.png, ui-run.png, ui-cluster.png), taken
 * of a three-node cluster on loopback. Runs only when asked:
 * {@code mvn -pl node -am verify -Dtest=WebUiScreenshotsTest -Dgrit.ui.screenshots=$PWD/docs}.
 */
@Tag("slow")
class WebUiScreenshotsTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void pagesOfAThreeNodeCluster() throws Exception {
    String out = System.getProperty("grit.ui.screenshots", "");
    assumeTrue(
        !out.isBlank(),
        "takes the documentation's screenshots only with -Dgrit.ui.screenshots=DIR");
    try (Browser browser = Browser.start(1400, 900);
        NodeCluster cluster = NodeCluster.start(dir.resolve("cluster"), 3, 2)) {
      String url = cluster.url(0);
      long wordcount =
          submit(cluster, url, "wordcount", Files.readString(Examples.path("wordcount.toml")));
      long failing = submit(cluster, url, "checks", WebUiApiTest.FAILING);
      long fan = submit(cluster, url, "fan", WebUiApiTest.FAN);
      for (long run : new long[] {wordcount, failing, fan}) {
        awaitEnd(cluster, url, run);
      }
      Path gate = dir.resolve("gate");
      submit(
          cluster,
          url,
          "nightly",
          """
          [[step]]
          name = "fetch"
          script = 'for i in 1 2 3 4 5 6; do echo $i > $OUTPUT_DIR/part_$i; done'

          [[step]]
          name = "clean"
          inputs = ["part_*"]
          script = 'while [ ! -e "%s" ]; do sleep 0.1; done; cp $INPUT_FILE $OUTPUT_DIR/clean_$GRIT_INPUT_NAME'
          """
              .formatted(gate));

      browser.driver.get(url + "/");
      WebElement token = browser.await(WAIT, d -> d.findElement(By.id("token")));
      token.sendKeys(cluster.secrets.token(Role.SUBMIT));
      token.submit();
      browser.awaitText(By.id("who"), "submit token", WAIT);

      browser.driver.get(url + "/#/runs");
      browser.awaitText(By.cssSelector("#runs"), "nightly", WAIT);
      browser.awaitText(By.cssSelector("#runs"), "running", WAIT);
      browser.screenshot(Path.of(out, "ui-runs.png"));

      browser.driver.get(url + "/#/runs/" + wordcount);
      browser.awaitText(By.cssSelector("#task-range"), "of 9", WAIT);
      browser.clickText(By.cssSelector("#task-table tbody tr"), "chunk_001", WAIT);
      browser.awaitText(By.cssSelector("#outputs"), "counts/chunk_001", WAIT);
      browser.screenshot(Path.of(out, "ui-run.png"));

      // The leader's view: it knows every member's liveness. A page of another origin (port)
      // asks for the token again.
      browser.driver.get(cluster.url(cluster.leader()) + "/#/cluster");
      WebElement again = browser.await(WAIT, d -> d.findElement(By.id("token")));
      again.sendKeys(cluster.secrets.token(Role.SUBMIT));
      again.submit();
      browser.awaitText(By.cssSelector("#members"), "n3", WAIT);
      browser.awaitText(By.cssSelector("#members"), "leader", WAIT);
      browser.screenshot(Path.of(out, "ui-cluster.png"));
      Files.writeString(gate, "");
    }
  }

  private static long submit(NodeCluster cluster, String url, String pipeline, String manifest)
      throws Exception {
    HttpResponse<String> r =
        cluster
            .http()
            .send(
                cluster
                    .request(url + "/v1/runs?pipeline=" + pipeline)
                    .POST(HttpRequest.BodyPublishers.ofString(manifest))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201) {
      throw new AssertionError(r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body()).get("run").asLong();
  }

  private static void awaitEnd(NodeCluster cluster, String url, long run) {
    Wait.until(
        "run " + run + " to end",
        WAIT,
        () -> {
          try {
            var r =
                cluster
                    .http()
                    .send(
                        cluster.request(url + "/v1/runs/" + run + "?summary=true").GET().build(),
                        HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200
                && !JSON.readTree(r.body()).get("state").asText().equals("RUNNING");
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
  }
}
