package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cnf: a tiny training run writes its JSON, weights and plots; bad input is one line, exit 2. */
class CnfCommandTest {

  @Test
  void tinyRunWritesResultsAndPlots(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("cnf");
    MainTest.Run r = run("cnf", "--target", "two-moons", "--iterations", "3", "--batch", "16", "--hidden", "8",
        "--steps", "2", "--test-samples", "40", "--plot-samples", "200", "--grid", "12", "--out", out.toString(),
        "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(out.resolve("cnf.json").toFile());
    assertThat(j.path("target").asText()).isEqualTo("two-moons");
    assertThat(j.path("trainSolver").asText()).isEqualTo("rk4(steps=2)");
    assertThat(j.path("nfeForwardPerIteration").asDouble()).isEqualTo(8.0);
    assertThat(j.path("nfeBackwardPerIteration").asDouble()).isEqualTo(8.0);
    assertThat(j.path("nfeTestForward").asInt()).isPositive();
    assertThat(j.path("plotSamples").asInt()).as("the points nfeSampling integrates").isEqualTo(200);
    assertThat(j.path("testLogLikelihood").asDouble()).isFinite().isLessThan(0);
    assertThat(j.path("inversionMaxAbsError").asDouble()).isLessThan(1e-3);
    assertThat(j.path("inversionHolds").asBoolean()).isTrue();
    // 1000 x --eval-tol 1e-6 x (1 + the largest |coordinate| of two-moons' test points, at most 4)
    assertThat(j.path("inversionTolerance").asDouble()).isBetween(1e-3, 5e-3);
    assertThat(j.path("parameters").asLong()).isEqualTo(8 * 3 + 8 + 8 * 8 + 8 + 2 * 8 + 2);
    assertThat(j.path("schemaVersion").asInt()).isEqualTo(1);
    assertThat(out.resolve("weights.npz")).exists();
    for (String png : new String[] {"density.png", "samples.png"}) {
      BufferedImage img = ImageIO.read(out.resolve(png).toFile());
      assertThat(img.getWidth()).as(png).isGreaterThan(2 * 12);
    }

    // A second run into it replaced these results without a word; as train does, it needs --fresh.
    String[] again = {"cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4", "--steps", "1",
        "--test-samples", "8", "--plot-samples", "20", "--grid", "4", "--out", out.toString(), "--no-progress",
        "--threads", "1"};
    MainTest.assertNeedsFresh(again, out, "cnf.json");
    assertThat(Json.MAPPER.readTree(out.resolve("cnf.json").toFile()).path("target").asText()).isEqualTo("rings");
  }

  /**
   * A long --time with a large --lr learns a flow too stiff to integrate back: the test points
   * came back hundreds of units off and the command exited 0. The results are written, one line
   * says so, and the exit code is 1, as for the other checks.
   */
  @Test
  void aFailedInversionCheckExitsOneAfterWritingTheResults(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("cnf");
    MainTest.Run r = run("cnf", "--target", "checkerboard", "--iterations", "20", "--batch", "64", "--hidden", "16",
        "--steps", "4", "--lr", "0.3", "--time", "30", "--eval-tol", "1e-3", "--test-samples", "40", "--plot-samples",
        "50", "--grid", "4", "--out", out.toString(), "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    JsonNode j = Json.MAPPER.readTree(out.resolve("cnf.json").toFile());
    double error = j.path("inversionMaxAbsError").asDouble(), tolerance = j.path("inversionTolerance").asDouble();
    assertThat(j.path("inversionHolds").asBoolean()).isFalse();
    // 1000 x 1e-3 x (1 + at most 4: the checkerboard lies in [-4, 4]^2)
    assertThat(tolerance).isBetween(1.0, 5.0);
    assertThat(error).isGreaterThan(tolerance);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).startsWith(String.format(java.util.Locale.ROOT, "irevnet cnf: inversion check failed: test"
        + " points integrated to T and back miss by up to %.3g, above %.3g (1000 x --eval-tol 0.001 x (1 + largest |x|",
        error, tolerance));
    for (String f : new String[] {"weights.npz", "density.png", "samples.png"}) assertThat(out.resolve(f)).exists();

    // The report fails a section that shows this file, reading the key as cnf writes it (it looked
    // for inversion_holds, and showed the failed check as ok).
    Path run = Files.createDirectories(tmp.resolve("run/analysis")).getParent();
    Files.writeString(run.resolve("config.json"), "{\"config\": {}, \"environment\": {}}");
    Files.copy(out.resolve("cnf.json"), run.resolve("analysis/cnf.json"));
    MainTest.Run rep = run("report", run.toString());
    assertThat(rep.code()).as(rep.err()).isZero();
    assertThat(rep.err()).contains("analysis/cnf.json: inversionHolds false");
  }

  @Test
  void adaptiveTrainingSolverCountsItsEvaluations(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("cnf");
    MainTest.Run r = run("cnf", "--target", "8-gaussians", "--iterations", "1", "--batch", "8", "--hidden", "4",
        "--solver", "dopri5", "--rtol", "1e-4", "--atol", "1e-4", "--test-samples", "20", "--plot-samples", "50",
        "--grid", "8", "--out", out.toString(), "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(out.resolve("cnf.json").toFile());
    assertThat(j.path("trainSolver").asText()).isEqualTo("dopri5(rtol=1.0E-4, atol=1.0E-4)");
    // Two evaluations pick the first step, then six per attempted step.
    assertThat((j.path("nfeForwardPerIteration").asDouble() - 2) % 6).isZero();
    assertThat(j.path("nfeBackwardPerIteration").asDouble()).isGreaterThanOrEqualTo(8);
  }

  @Test
  void badInputIsOneLineAndExitCode2(@TempDir Path tmp) {
    Path out = tmp.resolve("out");
    refused("unknown target 'spirals'", "--target", "spirals", "--out", out.toString());
    refused("unknown solver 'euler'", "--target", "rings", "--solver", "euler", "--out", out.toString());
    refused("--eval-tol must be at least 1.0E-14, got 0.0", "--target", "rings", "--eval-tol", "0", "--out", out.toString());
    refused("--steps must be at least 1, got 0", "--target", "rings", "--steps", "0", "--out", out.toString());
    refused("--rtol must be above 0, got -1.0", "--target", "rings", "--solver", "dopri5", "--rtol", "-1",
        "--out", out.toString());
    refused("--grid must be at least 2, got 1", "--target", "rings", "--grid", "1", "--out", out.toString());
    // The other solver's options would be ignored: refused, naming the solver they apply to.
    refused("--steps applies to --solver rk4, not dopri5", "--target", "rings", "--solver", "dopri5", "--steps", "4",
        "--out", out.toString());
    refused("--rtol applies to --solver dopri5, not rk4", "--target", "rings", "--rtol", "1e-3", "--out",
        out.toString());
    refused("--atol applies to --solver dopri5, not rk4", "--target", "rings", "--solver", "rk4", "--atol", "1e-3",
        "--out", out.toString());
    refused("--lr must be a finite number, got NaN", "--target", "rings", "--lr", "NaN", "--out", out.toString());
    assertThat(out).doesNotExist();
  }

  /**
   * An --out nothing can be written in is refused before training: cnf.json and the plots are
   * written last, so the run used to train and evaluate, then fail. Progress is on here: a run
   * that trained first would have printed its iteration line before the error.
   */
  @Test
  void anUnusableOutputDirectoryIsRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
    Path file = java.nio.file.Files.writeString(tmp.resolve("a-file"), "x");
    MainTest.Run r = run("cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4",
        "--steps", "1", "--test-samples", "10", "--plot-samples", "10", "--grid", "4", "--threads", "1",
        "--out", file.resolve("cnf").toString());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet cnf: " + file + ": exists and is not a directory");
    assertThat(r.out()).isEmpty();
    // A classifier run's analysis/: its report showed the flow's samples.png as that run's samples.
    Path runDir = tmp.resolve("run"), analysis = MainTest.runsAnalysis(runDir);
    MainTest.Run a = run("cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4",
        "--steps", "1", "--test-samples", "10", "--plot-samples", "10", "--grid", "4", "--threads", "1",
        "--out", analysis.toString());
    assertThat(a.code()).as(a.err()).isEqualTo(2);
    assertThat(a.err().strip()).isEqualTo("irevnet cnf: --out " + analysis + " is the analysis directory of the run "
        + runDir + ", whose report would show these results as that run's own results: give another directory");
    assertThat(analysis).isEmptyDirectory();
    // The run's own directory: the flow's files went in beside its config.json.
    MainTest.Run d = run("cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4",
        "--steps", "1", "--test-samples", "10", "--plot-samples", "10", "--grid", "4", "--threads", "1",
        "--out", runDir.toString());
    assertThat(d.code()).as(d.err()).isEqualTo(2);
    assertThat(d.err().strip()).isEqualTo("irevnet cnf: --out " + runDir + " is the directory of a run: give another"
        + " directory");
    try (var files = java.nio.file.Files.list(runDir)) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("config.json", "analysis");
    }
  }

  /**
   * An evaluation tolerance float64 cannot meet is refused by name before training: at 1e-300 the
   * run trained, then failed in evaluation (with "dopri5: non-finite state at t=0.0", the scaled
   * error overflowing, before the solver's norms were made overflow-safe), and between that and
   * 1e-14 the solver's error estimate is rounding, not a bound. The smallest tolerance allowed still
   * runs (the evaluation solver in cnf.json says it was used).
   */
  @Test
  void anEvaluationToleranceBelowWhatFloat64CanMeetIsRefused(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    refused("--eval-tol must be at least 1.0E-14, got 1.0E-300", "--target", "rings", "--eval-tol", "1e-300",
        "--out", out.toString());
    refused("--eval-tol must be at least 1.0E-14, got 9.0E-15", "--target", "rings", "--eval-tol", "9e-15",
        "--out", out.toString());
    assertThat(out).doesNotExist();
    MainTest.Run r = run("cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4", "--steps", "1",
        "--test-samples", "10", "--plot-samples", "10", "--grid", "4", "--eval-tol", "1e-14", "--out", out.toString(),
        "--no-progress", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Json.MAPPER.readTree(out.resolve("cnf.json").toFile()).path("evalSolver").asText())
        .isEqualTo("dopri5(rtol=1.0E-14, atol=1.0E-14)");
  }

  /**
   * An integration time over which the untrained flow overflows has no bound that holds for every
   * width and seed, but the loss of iteration 0 comes before any update: --lr cannot be its
   * cause, as the message said ("try a smaller --lr"). It names --time, as bad input.
   */
  @Test
  void aLossThatOverflowsBeforeAnyUpdateNamesTheIntegrationTime(@TempDir Path tmp) {
    Path out = tmp.resolve("out");
    for (String solver : new String[] {"rk4", "dopri5"}) {
      MainTest.Run r = run("cnf", "--target", "rings", "--iterations", "2", "--batch", "8", "--hidden", "4",
          "--solver", solver, "--time", "1e300", "--out", out.toString(), "--no-progress");
      assertThat(r.code()).as(solver + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).isEqualTo("irevnet cnf: training diverged at iteration 0, before any update (loss"
          + " Infinity): the untrained flow overflows over --time 1.0E300; try a smaller --time");
    }
    assertThat(out).doesNotExist();
  }

  private static void refused(String expected, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "cnf";
    System.arraycopy(args, 0, all, 1, args.length);
    MainTest.Run r = run(all);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
    assertThat(r.err()).contains(expected);
  }

  /**
   * cnf's four files are one result: with cnf.json, written last, impossible (a directory in its
   * place), --fresh keeps the earlier pictures and weights instead of replacing three of the four.
   */
  @Test
  void aResultThatCannotBeWrittenWholeReplacesNoFileOfIt(@TempDir Path tmp) throws Exception {
    Path out = Files.createDirectories(tmp.resolve("out"));
    for (String f : new String[] {"density.png", "samples.png", "weights.npz"}) Files.writeString(out.resolve(f), "earlier");
    Path json = Files.createDirectories(out.resolve("cnf.json"));
    Files.writeString(json.resolve("keep.txt"), "k");
    MainTest.Run r = run("cnf", "--target", "rings", "--iterations", "1", "--batch", "8", "--hidden", "4", "--steps", "1",
        "--test-samples", "10", "--plot-samples", "10", "--grid", "4", "--out", out.toString(), "--fresh",
        "--no-progress");
    for (String f : new String[] {"density.png", "samples.png", "weights.npz"}) assertThat(out.resolve(f)).hasContent("earlier");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet cnf: " + json + ": is a directory");
    try (var s = Files.list(out)) {
      assertThat(s.toList()).hasSize(4);
    }
  }
}
