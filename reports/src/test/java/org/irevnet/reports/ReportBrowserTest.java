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
import java.util.Map;
import java.util.logging.Level;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Dimension;
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
 * broken image, charts laid out with no two texts of a chart overlapping, and a screenshot that is
 * not blank; five long-named runs read at 1280 and 800 px; the page printed. Each test has a
 * control page that shows its checks can fail.
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
    Path out = ceAndIce(tmp);
    Path control = Files.writeString(tmp.resolve("control.html"), "<!DOCTYPE html><html><body>"
        + "<img alt=\"broken\" src=\"data:image/png;base64,AAAA\"><script>console.error('control error')</script>"
        // A tick label over the axis label, as in the quickstart's "layer-probes: pca: linear_l2" of 2026-12-06.
        + "<svg class=\"chart\" width=\"440\" height=\"250\" style=\"font-size:11px\"><text x=\"40\" y=\"60\""
        + " text-anchor=\"end\">1.0e-04</text><text transform=\"translate(13,60) rotate(-90)\" text-anchor=\"middle\">"
        + "linear_l2</text><text x=\"200\" y=\"60\">apart</text></svg></body></html>");

    try (Browser b = Browser.open(tmp)) {
      WebDriver driver = b.driver();
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

      assertThat(overlappingChartText(driver)).as("texts of a chart drawn over each other").isEmpty();

      driver.get(control.toUri().toString());
      assertThat(problems(driver)).anyMatch(p -> p.contains("control error")).contains("broken image: broken");
      assertThat(overlappingChartText(driver)).containsExactly("1.0e-04 over linear_l2");
    }
  }

  /**
   * Five runs with long names, read at 1280 and 800 px: the page never scrolls sideways, the
   * headline shows every run's column (its names wrap), and no run's column in a section is
   * narrower than 380 px (or the section), where charts kept legible text and tables their values
   * (at 1280 px five columns were 210 px each, their tables' values scrolled out of sight). The
   * control, a page of five 210 px columns, shows that the checks can fail.
   */
  @Test
  void fiveRunsWithLongNamesKeepReadableColumnsAtEveryWidth(@TempDir Path tmp) throws Exception {
    List<Path> runs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      runs.add(SyntheticRun.full(tmp.resolve("fi-revnet-s-cross-entropy-fashion-mnist-mini-seed" + i + "-three-epochs"),
          i % 2 == 0 ? "ce" : "ice", 0.3 + 0.1 * i));
    }
    Path out = tmp.resolve("report");
    Report.of(runs).write(out);
    Path control = Files.writeString(tmp.resolve("control.html"), "<!DOCTYPE html><html><body style=\"margin:0\">"
        + "<section id=\"headline\"><figure style=\"overflow-x:auto;max-width:300px;margin:0\"><table><tr><td>"
        + "x".repeat(200) + "</td></tr></table></figure></section><section><div class=\"runs\" style=\"display:grid;"
        + "grid-template-columns:repeat(5,210px)\">" + "<div class=\"run\">a</div>".repeat(5)
        + "</div></section><div style=\"width:3000px\">wide</div></body></html>");

    try (Browser b = Browser.open(tmp)) {
      WebDriver driver = b.driver();
      for (int width : new int[] {1280, 800}) {
        driver.manage().window().setSize(new Dimension(width, 1200));
        driver.get(out.resolve(Report.HTML).toUri().toString());
        assertThat(layoutProblems(driver)).as("at %d px", width).isEmpty();
      }
      driver.get(control.toUri().toString());
      assertThat(layoutProblems(driver)).anyMatch(p -> p.startsWith("the page scrolls sideways"))
          .anyMatch(p -> p.startsWith("the headline table is cut")).anyMatch(p -> p.startsWith("a run's column is 210"));
    }
  }

  /**
   * Printed (print media, a Letter page's 740 px), nothing scrolls: a figure's table wider than its
   * run's half page had its columns cut off (a confusion matrix lost four classes), and figures
   * split across pages. Every figure's content must fit it, and no figure may break across pages
   * unless taller than one, as a block (the inline-block headline of five runs went whole to the
   * next page, its heading left alone on the page before); the control, a wide table in an
   * inline-block figure, fails all three.
   */
  @Test
  void printedNoFigureLosesColumnsOrBreaksAcrossPages(@TempDir Path tmp) throws Exception {
    Path out = ceAndIce(tmp);
    Path control = Files.writeString(tmp.resolve("control.html"), "<!DOCTYPE html><html><body><figure style=\""
        + "overflow-x:auto;max-width:300px;display:inline-block\"><table><tr><td>" + "x".repeat(200)
        + "</td></tr></table></figure></body></html>");
    try (Browser b = Browser.open(tmp)) {
      ChromeDriver driver = (ChromeDriver) b.driver();
      driver.manage().window().setSize(new Dimension(740, 1200));
      driver.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("media", "print"));
      driver.get(out.resolve(Report.HTML).toUri().toString());
      assertThat(printProblems(driver)).isEmpty();
      driver.get(control.toUri().toString());
      assertThat(printProblems(driver)).containsExactly("a figure's content is cut: 1", "a figure may break: 1",
          "a figure is not a block: 1");
    }
  }

  /** The report of two synthetic runs, ce and ice, with every section's files; its directory. */
  private static Path ceAndIce(Path tmp) throws Exception {
    Path out = tmp.resolve("report");
    Report.of(List.of(SyntheticRun.full(tmp.resolve("ce"), "ce", 0.97), SyntheticRun.full(tmp.resolve("ice"), "ice",
        0.31))).write(out);
    return out;
  }

  /** Counts of figures whose content is wider than they are, and of figures that may break across pages. */
  @SuppressWarnings("unchecked")
  private static List<String> printProblems(WebDriver driver) {
    return (List<String>) ((JavascriptExecutor) driver).executeScript("""
        const figs = Array.from(document.querySelectorAll('figure')), out = [];
        const cut = figs.filter(f => f.scrollWidth > f.clientWidth + 1).length;
        const breaks = figs.filter(f => getComputedStyle(f).breakInside != 'avoid').length;
        const whole = figs.filter(f => getComputedStyle(f).display != 'block').length;
        if (cut > 0) out.push("a figure's content is cut: " + cut);
        if (breaks > 0) out.push('a figure may break: ' + breaks);
        if (whole > 0) out.push('a figure is not a block: ' + whole);
        return out;""");
  }

  /** Pairs of texts of one chart (ticks, axis labels) whose boxes overlap, as "A over B". */
  @SuppressWarnings("unchecked")
  private static List<String> overlappingChartText(WebDriver driver) {
    return (List<String>) ((JavascriptExecutor) driver).executeScript("""
        const out = [];
        for (const svg of document.querySelectorAll('svg.chart')) {
          const texts = Array.from(svg.querySelectorAll('text')).map(t => [t.textContent, t.getBoundingClientRect()]);
          for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
            const [a, p] = texts[i], [b, q] = texts[j];
            if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5) {
              out.push(a + ' over ' + b);
            }
          }
        }
        return out;""");
  }

  /** The checks of a readable layout: no sideways scrolling of the page or the headline, run columns of 380 px. */
  @SuppressWarnings("unchecked")
  private static List<String> layoutProblems(WebDriver driver) {
    return (List<String>) ((JavascriptExecutor) driver).executeScript("""
        const out = [], page = document.documentElement;
        if (page.scrollWidth > page.clientWidth) out.push('the page scrolls sideways: ' + page.scrollWidth + ' > ' + page.clientWidth);
        const head = document.querySelector('#headline figure');
        if (!head) out.push('no headline');
        else if (head.scrollWidth > head.clientWidth) out.push('the headline table is cut: ' + head.scrollWidth + ' > ' + head.clientWidth);
        for (const run of document.querySelectorAll('.run')) {
          const w = run.getBoundingClientRect().width, room = run.parentElement.getBoundingClientRect().width;
          if (w < Math.min(380, room) - 0.5) out.push("a run's column is " + Math.round(w) + ' px wide of ' + Math.round(room));
        }
        return out;""");
  }

  /** Headless Chromium through Debian's chromedriver; fails naming the packages when either is missing. */
  private record Browser(WebDriver driver, ChromeDriverService service) implements AutoCloseable {
    static Browser open(Path tmp) {
      Path chromium = Path.of(env("IREVNET_CHROMIUM", "/usr/bin/chromium"));
      Path driverExe = Path.of(env("IREVNET_CHROMEDRIVER", "/usr/bin/chromedriver"));
      if (!Files.isExecutable(chromium) || !Files.isExecutable(driverExe)) {
        Assumptions.assumeFalse("1".equals(System.getenv(SKIP)), SKIP + "=1: browser test skipped");
        fail("the browser test needs " + chromium + " and " + driverExe
            + ": apt-get install -y chromium chromium-driver (or set " + SKIP + "=1 to skip it)");
      }
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
      return new Browser(new ChromeDriver(service, options), service);
    }

    @Override
    public void close() {
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
