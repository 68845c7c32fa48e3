package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * vae: a tiny run writes vae.json (and prints it as one JSON line) and a config.json that makes it
 * a run the report shows; bad input is one line, exit 2.
 */
class VaeCommandTest {

  @Test
  void tinyRunWritesTheResultFile(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 32, 4);
    Path out = tmp.resolve("vae");
    MainTest.Run r = run("vae", "--flow", "sylvester-householder", "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--batch", "16", "--latent", "4", "--hidden", "16", "--flow-steps", "2",
        "--test-images", "3", "--is-samples", "20", "--threads", "1", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode printed = Json.MAPPER.readTree(r.out());
    JsonNode saved = Json.MAPPER.readTree(out.resolve("vae.json").toFile());
    assertThat(printed).isEqualTo(saved);
    assertThat(saved.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(saved.get("flow").asText()).isEqualTo("sylvester-householder");
    assertThat(saved.get("test_images").asInt()).isEqualTo(3);
    assertThat(saved.get("is_samples").asInt()).isEqualTo(20);
    assertThat(saved.get("train_images").asInt()).isEqualTo(32);
    assertThat(saved.has("orthogonality_error_test")).as("its Q is orthogonal by construction").isFalse();
    // The data as typed, and by content, as a training run records them.
    assertThat(saved.get("data").asText()).isEqualTo(data.toString());
    JsonNode config = Json.MAPPER.readTree(out.resolve("config.json").toFile());
    assertThat(config.get("config").get("data").asText()).isEqualTo(data.toString());
    assertThat(org.irevnet.data.DataIdentity.read(config.get("dataset")))
        .isEqualTo(org.irevnet.data.DataIdentity.of(org.irevnet.data.Datasets.resolve(data.toString())));
    assertThat(saved.get("test_is_nll_nats").asDouble()).isPositive()
        .isLessThanOrEqualTo(-saved.get("test_elbo_nats").asDouble());
    // The trained weights, every one a VAE of this configuration has (ParamTable.load checks names and
    // shapes): what makes these numbers recomputable outside (scripts/torch_density.py).
    new org.irevnet.vae.ConvVae(new org.irevnet.vae.ConvVae.Config("sylvester-householder", 4, 16, 2, 4, 8), 0,
        org.nd4j.linalg.api.buffer.DataType.FLOAT).params().load(org.irevnet.io.Npz.read(out.resolve("weights.npz")));

    MainTest.Run rep = run("report", out.toString());
    assertThat(rep.code()).as(rep.err()).isZero();
    JsonNode report = Json.MAPPER.readTree(out.resolve("report.json").toFile());
    assertThat(report.toString()).contains("\"vae\"").contains("VAE with a flow posterior")
        .contains("vae test_is_nll_nats").contains("test images (SHA-256)");

    // A second run into it replaced these results without a word; as train does, it needs --fresh.
    String[] again = {"vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(), "--epochs", "1",
        "--batch", "16", "--latent", "4", "--hidden", "16", "--test-images", "3", "--is-samples", "20",
        "--no-progress"};
    MainTest.assertNeedsFresh(again, out, "vae.json");
    assertThat(Json.MAPPER.readTree(out.resolve("vae.json").toFile()).get("flow").asText()).isEqualTo("none");
  }

  /**
   * sylvester-orthogonal's log-det assumes its iterated Q is orthonormal, which 30 iterations reach
   * only for raw matrices of condition number up to about 1e4; beyond, the numbers written were
   * silently wrong. vae.json records the largest |QᵀQ - I| of training and test and the tolerance;
   * past it the results are written and the check fails (exit code 1) with one line.
   */
  @Test
  void sylvesterOrthogonalRecordsAndChecksHowOrthonormalItsQWas(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path out = tmp.resolve("vae");
    MainTest.Run r = run("vae", "--flow", "sylvester-orthogonal", "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--batch", "4", "--latent", "3", "--hidden", "8", "--flow-steps", "2", "--orthonormal", "2",
        "--test-images", "2", "--is-samples", "2", "--threads", "1", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode saved = Json.MAPPER.readTree(out.resolve("vae.json").toFile());
    assertThat(saved.get("orthogonality_tolerance").asDouble()).isEqualTo(1e-5);
    // float32 rounding (1.2e-7 to 3.6e-7 measured), far below the tolerance
    assertThat(saved.get("orthogonality_error_train").asDouble()).isBetween(0.0, 1e-6);
    assertThat(saved.get("orthogonality_error_test").asDouble()).isBetween(0.0, 1e-6);

    // "Above 1e-5" fails (vae --help, README): at it, in training or on the test images, passes.
    assertThat(VaeCommand.orthogonalityFailure(1e-5, 2e-7)).isNull();
    assertThat(VaeCommand.orthogonalityFailure(2e-7, 1e-5)).isNull();
    assertThat(VaeCommand.orthogonalityFailure(2e-7, Math.nextUp(1e-5))).contains("on the test images");
    assertThat(VaeCommand.orthogonalityFailure(0.0182, 1e-5)).as("the test images at the tolerance passed")
        .contains("up to 0.0182 in training (test 1.00e-05)");
    assertThat(VaeCommand.orthogonalityFailure(2e-7, 0.424)).isEqualTo("orthogonality check failed:"
        + " sylvester-orthogonal's Q after 30 iterations has |QᵀQ - I| up to 0.424 on the test images (training"
        + " 2.00e-07), above the tolerance 1.00e-05: the log-det formula assumes QᵀQ = I, so the ELBO and IS-NLL"
        + " written are wrong (some raw matrix's condition number is above about 1e4)");
    assertThat(VaeCommand.orthogonalityFailure(0.0182, 1e-7)).contains("up to 0.0182 in training (test 1.00e-07)")
        .contains("the objective trained was not the ELBO");
    assertThat(VaeCommand.orthogonalityFailure(Double.NaN, 1e-7)).as("NaN fails").contains("up to NaN in training");
  }

  /** Not even with --fresh into a training run's directory: its config.json is what --resume and eval read. */
  /**
   * An option of another flow is said on stderr, not refused (experiments/vae.sh gives its extra
   * options to all six flows): --reflections with planar was accepted and recorded without a word.
   */
  @Test
  void anOptionTheFlowDoesNotUseIsSaid(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    MainTest.Run r = run("vae", "--flow", "planar", "--data", data.toString(), "--out", tmp.resolve("vae").toString(),
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--flow-steps", "1", "--reflections", "3",
        "--test-images", "2", "--is-samples", "2", "--no-progress");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err().lines()).containsExactly(
        "irevnet vae: note: --reflections is not used by --flow planar (only by sylvester-householder)");
    MainTest.Run none = run("vae", "--flow", "none", "--data", data.toString(), "--out", tmp.resolve("none").toString(),
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--flow-steps", "2", "--test-images", "2",
        "--is-samples", "2", "--no-progress");
    assertThat(none.err().lines()).containsExactly("irevnet vae: note: --flow-steps is not used by --flow none");
  }

  @Test
  void aTrainingRunIsNeverReplaced(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    for (String f : new String[] {"checkpoints", "metrics.jsonl"}) {
      Path run = Files.createDirectories(tmp.resolve("run-" + f));
      Files.writeString(run.resolve("config.json"), "{\"config\": {}}");
      if (f.equals("checkpoints")) Files.createDirectory(run.resolve(f)); else Files.writeString(run.resolve(f), "");
      MainTest.assertRefused(List.of("vae", "--flow", "none", "--data", data.toString(), "--out", run.toString(),
          "--fresh", "--no-progress"), run + " holds a training run (" + f + "), whose config.json vae would replace:"
          + " choose another --out");
      assertThat(run.resolve("config.json")).hasContent("{\"config\": {}}");
    }
  }

  @Test
  void badInputIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path out = tmp.resolve("vae");
    MainTest.Run unknown = run("vae", "--flow", "radial", "--data", data.toString(), "--out", out.toString());
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err().strip()).contains("--flow must be one of").doesNotContain("\n");
    MainTest.Run bigBatch = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(),
        "--batch", "100");
    assertThat(bigBatch.code()).isEqualTo(2);
    assertThat(bigBatch.err().strip()).contains("--batch 100 exceeds the 8 training images").doesNotContain("\n");
    MainTest.Run oneRow = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(),
        "--batch", "1");
    assertThat(oneRow.code()).isEqualTo(2);
    assertThat(oneRow.err().strip()).isEqualTo("irevnet vae: --batch must be at least 2, got 1");
    MainTest.Run zero = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(), "--epochs", "0");
    assertThat(zero.code()).isEqualTo(2);
    assertThat(out).doesNotExist();
  }

  /**
   * Only the training split's size was checked: a test split of another size trained the whole run,
   * then stopped in ND4J's reshape with native error lines and exit code 3.
   */
  @Test
  void aTestSplitOfAnotherSizeIsRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    java.nio.ByteBuffer idx = java.nio.ByteBuffer.allocate(16 + 2 * 28 * 20).putInt(0x803).putInt(2).putInt(28).putInt(20);
    Files.write(data.resolve("t10k-images-idx3-ubyte"), idx.array());
    Path out = tmp.resolve("vae");
    MainTest.assertRefused(List.of("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(),
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--test-images", "2", "--is-samples", "2",
        "--no-progress"), "vae needs 1x28x28 images, data/test has 1x28x20");
    assertThat(out).doesNotExist();
  }

  /**
   * A learning rate of NaN or infinity once trained and wrote vae.json with "lr": "NaN" (exit 0),
   * and a negative one ended as a failed run (exit 3, "the evaluation is not finite"): both are
   * bad input, refused before any data is read. So is one beyond float32's range, at which Adam
   * stepped by its epsilon and nothing trained (test ELBO -607 nats against -430 at 1e-3, exit 0).
   * --train-images 0 means all; below that is a typo.
   */
  @Test
  void aLearningRateThatIsNotAPositiveNumberOrANegativeImageCountIsBadInput(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path out = tmp.resolve("vae");
    for (String lr : List.of("NaN", "Infinity", "-1", "0", "1e39")) {
      MainTest.Run r = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(),
          "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--test-images", "2", "--is-samples", "2",
          "--lr", lr, "--no-progress");
      assertThat(r.code()).as(lr + ": " + r.err()).isEqualTo(2);
      assertThat(r.err().strip()).as(lr).startsWith("irevnet vae: --lr must be").doesNotContain("\n");
    }
    MainTest.Run negative = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(),
        "--train-images", "-5", "--no-progress");
    assertThat(negative.code()).isEqualTo(2);
    assertThat(negative.err().strip()).isEqualTo("irevnet vae: --train-images must be at least 0, got -5");
    assertThat(out).doesNotExist();
  }

  @Test
  void orthonormalColumnsBeyondTheLatentDimensionAreRefusedByTheirOptions(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path out = tmp.resolve("vae");
    MainTest.Run r = run("vae", "--flow", "sylvester-orthogonal", "--data", data.toString(), "--out", out.toString(),
        "--latent", "4", "--orthonormal", "5", "--no-progress");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet vae: --orthonormal must be in 1..--latent (4), got 5");
    assertThat(out).doesNotExist();
  }

  /**
   * An --out nothing can be written in is refused before the data are read and the VAE trained:
   * vae.json is written last, so the run used to train and evaluate, then fail. Progress is on
   * here: a run that trained first would have printed its epoch line before the error.
   */
  @Test
  void anUnusableOutputDirectoryIsRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path file = Files.writeString(tmp.resolve("a-file"), "x");
    MainTest.Run r = run("vae", "--flow", "none", "--data", data.toString(), "--out", file.resolve("vae").toString(),
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--test-images", "2", "--is-samples", "2");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet vae: " + file + ": exists and is not a directory");
    assertThat(r.out()).isEmpty();
    // A classifier run's analysis/: its report showed vae.json and the VAE's config.json as that run's results.
    Path runDir = tmp.resolve("run"), analysis = MainTest.runsAnalysis(runDir);
    MainTest.Run a = run("vae", "--flow", "none", "--data", data.toString(), "--out", analysis.toString(),
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--test-images", "2", "--is-samples", "2");
    assertThat(a.code()).as(a.err()).isEqualTo(2);
    assertThat(a.err().strip()).isEqualTo("irevnet vae: --out " + analysis + " is the analysis directory of the run "
        + runDir + ", whose report would show these results as that run's own results: give another directory");
    assertThat(analysis).isEmptyDirectory();
  }

  /** config.json and vae.json are one result: with vae.json impossible, --fresh keeps the earlier config.json. */
  @Test
  void aResultThatCannotBeWrittenWholeReplacesNoFileOfIt(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 8, 2);
    Path out = Files.createDirectories(tmp.resolve("vae"));
    Path config = Files.writeString(out.resolve("config.json"), "{\"earlier\": true}");
    Path json = Files.createDirectories(out.resolve("vae.json"));
    Files.writeString(json.resolve("keep.txt"), "k");
    MainTest.Run r = run("vae", "--flow", "none", "--data", data.toString(), "--out", out.toString(), "--fresh",
        "--epochs", "1", "--batch", "4", "--latent", "2", "--hidden", "8", "--test-images", "2", "--is-samples", "2",
        "--no-progress");
    assertThat(config).hasContent("{\"earlier\": true}");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet vae: " + json + ": is a directory");
    try (var s = Files.list(out)) {
      assertThat(s.toList()).containsExactlyInAnyOrder(config, json);
    }
  }
}
