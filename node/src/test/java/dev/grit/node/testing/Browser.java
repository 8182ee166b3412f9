package dev.grit.node.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedCondition;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The system's headless Chromium (Debian's {@code chromium} and {@code chromium-driver}), driven
 * through Selenium: never a browser or driver fetched at run time. A test that needs it is skipped
 * when the browser is not installed.
 */
public final class Browser implements AutoCloseable {
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  public final ChromeDriver driver;

  private Browser(ChromeDriver driver) {
    this.driver = driver;
  }

  /**
   * A headless browser with a window of {@code width} x {@code height}; the test is skipped, saying
   * why, when Chromium or its driver is missing. It accepts the test CA's certificates by not
   * checking any: it talks to loopback only.
   */
  public static Browser start(int width, int height) {
    assumeTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "web UI browser tests need "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER
            + " (Debian: apt-get install chromium chromium-driver)");
    var options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        // Containers and CI run as root, where Chromium's sandbox cannot start.
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--ignore-certificate-errors",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=" + width + "," + height);
    var service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    return new Browser(new ChromeDriver(service, options));
  }

  /** Waits up to {@code limit} for {@code condition}, which returns null or false until it holds. */
  public <T> T await(Duration limit, ExpectedCondition<T> condition) {
    return new WebDriverWait(driver, limit, Duration.ofMillis(50)).until(condition);
  }

  /**
   * Waits for an element whose text contains {@code text} and returns that text: read at once,
   * since the page may replace the element on its next refresh.
   */
  public String awaitText(By by, String text, Duration limit) {
    return await(limit, d -> textOf(d.findElements(by), text, false));
  }

  /** Waits for an element whose text contains {@code text} and clicks it. */
  public void clickText(By by, String text, Duration limit) {
    await(limit, d -> textOf(d.findElements(by), text, true));
  }

  private static String textOf(List<WebElement> elements, String text, boolean click) {
    for (WebElement e : elements) {
      try {
        String shown = e.getText();
        if (shown.contains(text)) {
          if (click) {
            e.click();
          }
          return shown;
        }
      } catch (StaleElementReferenceException stale) {
        // replaced by a newer render: look again
      }
    }
    return null;
  }

  /** Saves what the window shows as a PNG. */
  public void screenshot(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
  }

  @Override
  public void close() {
    driver.quit();
  }
}
