package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.testing.Wait;
import dev.grit.node.auth.Role;
import dev.grit.node.testing.Browser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * How long the web UI takes to open a run of 10,001 tasks (one start task, 10,000 consumers):
 * printed, not asserted (times depend on the machine). The page reads the run, its steps counted
 * by the record and one page of tasks, never the whole run. Measured while the run runs (its
 * events followed) and again once it is cancelled.
 */
@Tag("slow")
class WebUiLargeRunTest {
  private static final int TASKS = 10_000;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path dir;
  static TestServer server;
  static Browser browser;

  @BeforeAll
  static void start() throws Exception {
    browser = Browser.start(1400, 1100);
    server = new TestServer(dir.resolve("node"));
  }

  @AfterAll
  static void stop() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  @Test
  void aRunOfTenThousandTasksOpens() throws Exception {
    long run =
        server.submit(
            "large",
            """
            [[step]]
            name = "make"
            script = 'i=1; while [ $i -le %d ]; do echo "item $i" > "$OUTPUT_DIR/item_$i"; i=$((i + 1)); done'

            [[step]]
            name = "each"
            inputs = ["item_*"]
            script = ':'
            """
                .formatted(TASKS));
    JsonNode[] steps = new JsonNode[1];
    Wait.until(
        "the run's " + TASKS + " consumer tasks to exist",
        Duration.ofMinutes(5),
        () -> {
          try {
            steps[0] = TestServer.json(server.get("/v1/runs/" + run + "/steps"));
            return steps[0].get("steps").get(1).get("tasks").get("total").asInt() == TASKS;
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        },
        () -> String.valueOf(steps[0]));

    browser.driver.get(server.url() + "/");
    WebElement token = browser.await(WAIT, d -> d.findElement(By.id("token")));
    token.sendKeys(server.secrets.token(Role.READ));
    token.submit();
    browser.awaitText(By.id("who"), "read token", WAIT);

    report("running", run);
    assertEquals(200, server.post("/v1/runs/" + run + "/cancel", "").statusCode());
    server.awaitEnd(run, WAIT);
    report("cancelled", run);
    browser.screenshot(Path.of("target", "ui-large-run.png"));
  }

  private static void report(String label, long run) throws Exception {
    var api = new ArrayList<String>();
    for (String path :
        List.of(
            "/v1/runs/" + run + "?summary=true",
            "/v1/runs/" + run + "/steps",
            "/v1/runs/" + run + "/tasks?limit=50",
            "/v1/runs/" + run + "/tasks?state=pending&offset=9000&limit=50")) {
      var times = new ArrayList<Double>();
      for (int i = 0; i < 7; i++) {
        long t0 = System.nanoTime();
        var r = server.get(path);
        times.add((System.nanoTime() - t0) / 1e6);
        assertEquals(200, r.statusCode(), r.body());
      }
      api.add(String.format(Locale.ROOT, "%s %.1f ms", path, median(times)));
    }
    var page = new ArrayList<Double>();
    for (int i = 0; i < 5; i++) {
      browser.driver.get(server.url() + "/#/runs");
      browser.awaitText(By.cssSelector("#runs"), "#" + run, WAIT);
      long t0 = System.nanoTime();
      browser.driver.get(server.url() + "/#/runs/" + run);
      // Open: the step graph with its counts and the first page of the task table are shown.
      // Read in the page, where a refresh cannot pull an element from under the check.
      new org.openqa.selenium.support.ui.WebDriverWait(
              browser.driver, WAIT, Duration.ofMillis(5))
          .until(
              d ->
                  Boolean.TRUE.equals(
                      browser.driver.executeScript(
                          "const r = document.getElementById('task-range');"
                              + " return !!r && r.textContent.endsWith(arguments[0])"
                              + " && !!document.querySelector(\"#graph g.step[data-step='each']\");",
                          "of " + (TASKS + 1))));
      page.add((System.nanoTime() - t0) / 1e6);
    }
    System.out.printf(
        Locale.ROOT,
        "web UI, run of %d tasks (%s): page open median %.0f ms (each: %s); API medians: %s%n",
        TASKS + 1,
        label,
        median(page),
        page.stream().map(t -> String.format(Locale.ROOT, "%.0f", t)).toList(),
        String.join(", ", api));
  }

  private static double median(List<Double> values) {
    var sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }
}
