package dev.grit.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.node.auth.Role;
import dev.grit.node.testing.Browser;
import dev.grit.node.testing.Examples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The web UI end to end: headless Chromium against a real node on loopback, over TLS with a
 * submit token typed into the page. It opens the runs list, a finished run (its step graph's
 * counts, a task's attempts, log and outputs), a run followed live until it ends, a failed run,
 * lineage and the cluster. The run page's screenshot is kept as target/ui-run.png (the
 * documentation's pictures come from {@link WebUiScreenshotsTest}).
 */
class WebUiBrowserTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static TestServer server;
  static Browser browser;
  static long fan;
  static long failing;
  static long wordcount;

  @BeforeAll
  static void start() throws Exception {
    browser = Browser.start(1400, 1100);
    server = new TestServer(dir.resolve("node"));
    wordcount = server.submit("wordcount", Files.readString(Examples.path("wordcount.toml")));
    failing = server.submit("failing", WebUiApiTest.FAILING);
    fan = server.submit("fan", WebUiApiTest.FAN);
    for (long run : List.of(wordcount, failing, fan)) {
      server.awaitEnd(run, Duration.ofSeconds(90));
    }
    browser.driver.get(server.url() + "/");
    WebElement token = browser.await(WAIT, d -> d.findElement(By.id("token")));
    token.sendKeys(server.secrets.token(Role.SUBMIT));
    token.submit();
    browser.awaitText(By.id("who"), "submit token", WAIT);
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

  private static void open(String hash) {
    browser.driver.get(server.url() + "/#" + hash);
  }

  /** The text of {@code css}'s first element once it contains {@code text}. */
  private static String await(String css, String text) {
    return browser.awaitText(By.cssSelector(css), text, WAIT);
  }

  @Test
  void theRunsPageListsRunsNewestFirstAndFilters() throws Exception {
    open("/runs");
    // The newest run first, with its pipeline, state and task counts.
    String first = await("#runs tbody tr:first-child[data-run='" + fan + "']", "7 succeeded");
    assertTrue(first.contains("fan") && first.contains("succeeded"), first);
    await("#runs tr[data-run='" + wordcount + "']", "wordcount");

    open("/runs?state=failed");
    await("#runs tr[data-run='" + failing + "']", "failed");
    assertEquals(1, browser.driver.findElements(By.cssSelector("#runs tbody tr")).size());
  }

  @Test
  void aFinishedRunShowsItsStepCountsATasksLogAndOutputs() throws Exception {
    open("/runs/" + fan);
    await("#run-head h1", "succeeded");
    assertTrue(await("#run-counts", "7 succeeded").contains("7 succeeded"));
    // The step graph: each step with its counts, and the edges labelled by input pattern.
    assertTrue(stepText("count").contains("5/5 done"), stepText("count"));
    assertTrue(stepText("split").contains("1/1 done"), stepText("split"));
    assertTrue(stepText("total").contains("1/1 done"), stepText("total"));
    String patterns =
        browser.driver.findElements(By.cssSelector("#graph text.pattern")).stream()
            .map(e -> e.getDomProperty("textContent"))
            .sorted()
            .toList()
            .toString();
    assertEquals("[chunk_*, counts/*]", patterns);
    await("#task-range", "1–7 of 7");

    // A task of "count": its attempt, its log and its output.
    browser.clickText(By.cssSelector("#task-table tbody tr"), "chunk_2", WAIT);
    String log = await("#log", "counted chunk_2");
    assertTrue(log.startsWith("== attempt 1 on local: succeeded"), log);
    assertTrue(await("#attempts", "succeeded").contains("local"));
    await("#outputs", "counts/chunk_2");
    assertEquals(1, browser.driver.findElements(By.cssSelector("#outputs button")).size());
    browser.screenshot(Path.of("target", "ui-run.png"));

    // Filtered by state and by a click on a step of the graph.
    browser.driver.findElement(By.cssSelector("#graph g.step[data-step='count']")).click();
    await("#task-range", "1–5 of 5");
    new org.openqa.selenium.support.ui.Select(
            browser.driver.findElement(By.cssSelector("#tasks select")))
        .selectByValue("failed");
    await("#task-table", "No tasks.");
  }

  @Test
  void aRunningRunIsFollowedLiveUntilItEnds() throws Exception {
    Path gate = dir.resolve("gate");
    long run =
        server.submit(
            "gated",
            """
            [[step]]
            name = "wait"
            script = '''
            echo "before the gate"
            while [ ! -e "%s" ]; do sleep 0.05; done
            echo "through the gate"
            echo opened > $OUTPUT_DIR/opened
            '''

            [[step]]
            name = "after"
            inputs = ["opened"]
            script = 'echo "after the gate"'
            """
                .formatted(gate));
    open("/runs/" + run);
    await("#run-head h1", "running");
    await("#run-head h1", "live");
    await("#graph g.step[data-step='wait']", "1 running");
    assertEquals(
        1, browser.driver.findElements(By.id("cancel")).size(), "a submit token may cancel");
    browser.clickText(By.cssSelector("#task-table tbody tr"), "wait", WAIT);
    await("#task", "runs on local");
    // The running attempt's output, while it runs (the gate is still shut).
    String live = await("#log", "before the gate");
    assertTrue(live.startsWith("== attempt 1 on local: running"), live);

    Files.writeString(gate, "");
    // No reload: the run's events bring the new counts, the new step's task and the end.
    await("#run-head h1", "succeeded");
    assertTrue(await("#run-counts", "2 succeeded").contains("2 succeeded"));
    await("#graph g.step[data-step='after']", "1/1 done");
    String ended = await("#log", "== attempt 1 on local: succeeded");
    assertEquals("== attempt 1 on local: succeeded\nbefore the gate\nthrough the gate", ended.strip());
    assertEquals(0, browser.driver.findElements(By.id("cancel")).size());
  }

  @Test
  void aFailedRunShowsItsFailureAndRetryOnlyWhereTheNodeHasIt() throws Exception {
    open("/runs/" + failing);
    await("#run-head h1", "failed");
    await("#graph g.step[data-step='check']", "1 failed");
    browser.clickText(By.cssSelector("#task-table tbody tr"), "check b", WAIT);
    await("#log", "not a: b");
    await("#attempts", "failed");
    int retry = server.get("/v1/runs/" + failing + "/retry").statusCode();
    if (retry == 404) {
      assertEquals(0, browser.driver.findElements(By.id("retry")).size());
    } else {
      browser.await(WAIT, d -> d.findElement(By.id("retry")));
    }
  }

  @Test
  void lineageAndTheClusterPage() throws Exception {
    open("/lineage?ref=total&pipeline=fan");
    await("#lineage", "counts/chunk_5");
    String tree = await("#lineage", "step count");
    assertTrue(tree.contains("step total"), tree);
    assertTrue(tree.contains("chunk_1"), tree);

    open("/cluster");
    String members = await("#members", "leader");
    assertTrue(members.contains("local"), members);
    assertTrue(members.contains("live"), members);
  }

  private static String stepText(String step) {
    return browser
        .await(WAIT, d -> d.findElement(By.cssSelector("#graph g.step[data-step='" + step + "']")))
        .getDomProperty("textContent");
  }
}
