package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true));
    System.setErr(new PrintStream(err, true));
    try {
      int code = Main.execute(args);
      return new Run(code, out.toString(), err.toString());
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** A tiny architecture and dataset written under {@code tmp}, and a run trained on them. */
  record TinyRun(Path arch, Path data, Path dir, Run train) {}

  static TinyRun trainTiny(Path tmp, int epochs) throws java.io.IOException {
    Path arch = Files.writeString(tmp.resolve("tiny.json"), org.irevnet.testing.TinyData.ARCH);
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 64, 20);
    Path dir = tmp.resolve("run");
    Run t = run("train", "--arch", arch.toString(), "--data", data.toString(), "--out", dir.toString(),
        "--epochs", Integer.toString(epochs), "--batch", "16", "--no-progress");
    return new TinyRun(arch, data, dir, t);
  }

  static final String TINY = """
      {"name": "tiny", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10,
       "stages": [{"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true},
                  {"steps": 1, "hidden": 4, "kernel": 3, "coupling": "affine", "actnorm": true}]}""";

  @Test
  void benchPrintsOneJsonLineWithEveryField(@TempDir Path dir) throws Exception {
    Path arch = dir.resolve("tiny.json");
    Files.writeString(arch, TINY);
    Run r = run("bench", "--arch", arch.toString(), "--batch", "4", "--steps", "2", "--warmup", "0", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().strip().lines()).hasSize(1);
    JsonNode j = Json.MAPPER.readTree(r.out());
    for (String f : new String[] {"arch", "batch", "threads", "params", "train_step_ms", "train_images_per_s",
        "forward_ms", "inverse_ms", "recon_max_abs_err_f32", "recon_max_abs_err_f64", "peak_rss_mib", "param_state_mib", "working_rss_mib"}) {
      assertThat(j.has(f)).as(f).isTrue();
    }
    assertThat(j.get("batch").asInt()).isEqualTo(4);
    assertThat(j.get("recon_max_abs_err_f32").asDouble()).isLessThanOrEqualTo(1e-5);
    assertThat(j.get("recon_max_abs_err_f64").asDouble()).isLessThanOrEqualTo(1e-12);
    assertThat(r.out()).doesNotContain("Added differentiated op").doesNotContain("INFO");
  }

  @Test
  void badInputIsOneLineAndExitCode2() {
    Run r = run("bench", "--arch", "no-such-arch", "--no-progress");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("unknown architecture 'no-such-arch'");
    Run u = run("bench", "--batch", "many");
    assertThat(u.code()).isEqualTo(2);
    assertThat(u.err()).contains("--batch");
  }

  @Test
  void helpListsTheCommands() {
    Run r = run("--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("selftest").contains("bench");
  }
}
