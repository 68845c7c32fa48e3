package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * The Python interpreter with PyTorch that the cross-checks against {@code scripts/torch_*.py}
 * run: {@code /usr/bin/python3} ({@code apt-get install python3-torch}; {@code .ci/run} installs
 * it), or {@code IREVNET_PYTHON}. Without PyTorch a cross-check fails, unless {@code
 * IREVNET_SKIP_TORCH_TEST=1} says to skip it.
 */
public final class TorchPython {
  public static final String SKIP = "IREVNET_SKIP_TORCH_TEST";

  private TorchPython() {}

  /** The interpreter, for a {@code @BeforeAll}: fails without PyTorch, or skips the class when {@link #SKIP} is 1. */
  public static String find() throws Exception {
    String python = System.getenv().getOrDefault("IREVNET_PYTHON", "/usr/bin/python3");
    boolean found;
    try {
      found = run(python, "-c", "import torch, numpy").exitCode() == 0;
    } catch (IOException e) {
      found = false;
    }
    if (!found) {
      Assumptions.assumeFalse("1".equals(System.getenv(SKIP)), SKIP + "=1: PyTorch cross-check skipped");
      fail("the PyTorch cross-check needs " + python + " with PyTorch: apt-get install -y python3-torch (or set "
          + SKIP + "=1 to skip it)");
    }
    return python;
  }

  public record Result(int exitCode, String stdout, String stderr) {}

  /**
   * The checks a {@code check_main} script ({@code torch_analysis.py}, {@code torch_density.py})
   * reports failed, each with what it compared: empty when every number agreed.
   */
  public static List<String> failedChecks(JsonNode result) {
    List<String> out = new ArrayList<>();
    result.path("failed").forEach(f -> out.add(f.asText() + " " + result.path("checks").path(f.asText())));
    return out;
  }

  /** Asserts that the check {@code name} of a script's result is there and held: that kind of number was compared. */
  public static void assertChecked(JsonNode result, String name) {
    assertThat(result.path("checks").path(name).path("ok").asBoolean(false)).as(name + ": " + result.path("checks"))
        .isTrue();
  }

  /**
   * Asserts that {@code script} refuses a directory without its {@code spec} file: one line on stderr
   * naming the script, the directory and the file, exit code 2, nothing on stdout.
   */
  public static void assertRefusesAnEmptyDirectory(String python, Path script, String spec, Path tmp) throws Exception {
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    Result r = run(python, script.toString(), empty.toString());
    String prog = script.getFileName().toString().replaceFirst("\\.py$", "");
    assertThat(r.exitCode()).as(r.stderr()).isEqualTo(2);
    assertThat(r.stderr().strip()).startsWith(prog + ": " + empty + ": ").contains(spec).hasLineCount(1);
    assertThat(r.stdout()).isEmpty();
  }

  public static Result run(String... command) throws Exception {
    ProcessBuilder b = new ProcessBuilder(command);
    // The scripts import torch_port.py: without this Python caches it in scripts/__pycache__, in the checkout.
    b.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    // Into files, read after the exit: a pipe holds 64 KiB, and a script whose JSON was longer (a
    // failing cross-check lists every number that differs) blocked writing it until the timeout,
    // which then hid what had failed behind "no exit within 300 s".
    Path out = Files.createTempFile("torch-python", ".out"), err = Files.createTempFile("torch-python", ".err");
    try {
      Process p = b.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      p.getOutputStream().close();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail(String.join(" ", command) + ": no exit within 300 s");
      }
      return new Result(p.exitValue(), new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
          new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
