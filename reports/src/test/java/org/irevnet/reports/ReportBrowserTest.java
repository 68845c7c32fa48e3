package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

/**
 * Opens a generated comparison report in headless Debian Chromium (through Debian's chromedriver;
 * both paths are given, so Selenium Manager never downloads anything): no console error, no
 * broken image, charts laid out, and a screenshot that is not blank. A control page with a broken
 * image and a console error shows that the checks can fail.
 *
 * <p>Needs {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} ({@code apt-get install
 * chromium chromium-driver}; {@code .ci/run} installs them). Without them the test fails, unless
 * {@code IREVNET_SKIP_BROWSER_TEST=1} says to skip it. Other paths: {@code IREVNET_CHROMIUM},
 * {@code IREVNET_CHROMEDRIVER}.
 */
class ReportBrowserTest {
  static final String SKIP = "IREVNET_SKIP_BROWSER_TEST";
  /** Selenium warns that it has no DevTools bindings for this Chromium; the test does not use them. */
  private static final java.util.logging.Logger QUIET = java.util.logging.Logger.getLogger("org.openqa.selenium");

  static {
    QUIET.setLevel(Level.SEVERE);
  }

  @Test
  void theReportOpensInHeadlessChromiumWithoutErrorsOrBrokenImages(@TempDir Path tmp) throws Exception {
    Path chromium = Path.of(env("IREVNET_CHROMIUM", "/usr/bin/chromium"));
    Path driverExe = Path.of(env("IREVNET_CHROMEDRIVER", "/usr/bin/chromedriver"));
    if (!Files.isExecutable(chromium) || !Files.isExecutable(driverExe)) {
      Assumptions.assumeFalse("1".equals(System.getenv(SKIP)), SKIP + "=1: browser test skipped");
      fail("the browser test needs " + chromium + " and " + driverExe
          + ": apt-get install -y chromium chromium-driver (or set " + SKIP + "=1 to skip it)");
    }
    Path out = tmp.resolve("report");
    Report.of(List.of(SyntheticRun.full(tmp.resolve("ce"), "ce", 0.97), SyntheticRun.full(tmp.resolve("ice"), "ice",
        0.31))).write(out);
    Path control = Files.writeString(tmp.resolve("control.html"), "<!DOCTYPE html><html><body>"
        + "<img alt=\"broken\" src=\"data:image/png;base64,AAAA\"><script>console.error('control error')</script>"
        + "</body></html>");

    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--window-size=1280,1600", "--user-data-dir=" + tmp.resolve("profile"));
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(driverExe.toFile())
        .usingAnyFreePort().withLogOutput(OutputStream.nullOutputStream()).build();
    WebDriver driver = new ChromeDriver(service, options);
    try {
      driver.get(out.resolve(Report.HTML).toUri().toString());
      assertThat(problems(driver)).as("console errors and broken images").isEmpty();
      JavascriptExecutor js = (JavascriptExecutor) driver;
      assertThat((Long) js.executeScript("return document.images.length")).as("5 PNGs per run").isEqualTo(10);
      assertThat((Long) js.executeScript("return Array.from(document.querySelectorAll('svg.chart'))"
          + ".filter(s => s.getBoundingClientRect().width > 100).length")).isGreaterThan(10);
      assertThat(driver.getTitle()).isEqualTo("irevnet report: ce vs ice");

      byte[] png = ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES);
      Files.write(tmp.resolve("screenshot.png"), png);
      BufferedImage shot = ImageIO.read(new ByteArrayInputStream(png));
      assertThat(shot.getWidth()).isGreaterThan(800);
      assertThat(shareUnlike(shot, shot.getRGB(0, shot.getHeight() - 1))).as("screenshot not blank").isGreaterThan(0.02);

      driver.get(control.toUri().toString());
      assertThat(problems(driver)).anyMatch(p -> p.contains("control error")).contains("broken image: broken");
    } finally {
      driver.quit();
      service.stop();
    }
  }

  /** SEVERE browser log entries (console errors, failed loads) and images that did not decode. */
  private static List<String> problems(WebDriver driver) {
    List<String> out = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER).getAll()) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) out.add("console: " + e.getMessage());
    }
    @SuppressWarnings("unchecked")
    List<String> broken = (List<String>) ((JavascriptExecutor) driver).executeScript("return Array.from(document.images)"
        + ".filter(i => !i.complete || i.naturalWidth === 0).map(i => 'broken image: ' + i.alt)");
    out.addAll(broken);
    return out;
  }

  /** The share of pixels whose colour differs from {@code rgb}. */
  private static double shareUnlike(BufferedImage img, int rgb) {
    long differ = 0;
    for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if (img.getRGB(x, y) != rgb) differ++;
    return differ / (double) ((long) img.getWidth() * img.getHeight());
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v;
  }
}
