package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.irevnet.data.Batches;
import org.irevnet.data.DataSource;
import org.irevnet.data.Datasets;
import org.irevnet.data.Preprocess;
import org.irevnet.io.Npz;
import org.irevnet.testing.TorchPython;
import org.irevnet.train.Density;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every number the analysis commands write, against an independent computation: {@code
 * scripts/torch_analysis.py} recomputes, in PyTorch float64 on the model {@code torch_port.py}
 * rebuilds from {@code export}, from images it reads from the IDX files itself, what {@code eval},
 * {@code invert}, {@code interpolate}, {@code metamers} and {@code probe --layers --nuisance --linear}
 * wrote for a small trained run of Fashion-MNIST images: accuracy, loss, confusion counts and
 * bits/dim, reconstruction errors and the Jacobians' singular values, the interpolation paths'
 * classes, probabilities and drifts, the metamers' classes, distances and rates, the probes'
 * standardisation, 1-NN, penalised softmax regressions with their held-out penalties and the PCA
 * curve, and the nuisance's linear reader (the same regression on 1,014 standardised dimensions of
 * z_n, solved in the span of the training rows). The script says which numbers differ; the test
 * also requires that float32 rounding cannot have decided a class or a nearest neighbour (the
 * script's margins), so that exact agreement is a real one. What the script is given rather than
 * computing: the seeded draws (eval's dequantisation noise, the probes' subsets and held-out fifth).
 * About 30 s in {@code .ci/run} on an idle machine (29 s before it checked the linear reader).
 */
class AnalysisTorchTest {
  private static final Path SCRIPT = Path.of("..", "scripts", "torch_analysis.py").toAbsolutePath().normalize();
  private static final Path MINI = Path.of("..", "data", "fashion-mnist-mini").toAbsolutePath().normalize();
  static final int TRAIN = 400, TEST = 150;
  /** The probes' seeded subsets, and their seed. */
  static final int PROBE_TRAIN = 300, PROBE_TEST = 120;
  static final long PROBE_SEED = 5;

  /**
   * Three stages, the last without SpaceToDepth, so that every probe's features are at most 16
   * wide: the script's Newton fits stay small.
   */
  static final String ARCH = """
      {"name": "small", "type": "fi-revnet", "inputShape": [1, 32, 32], "numClasses": 10, "stages": [
        {"steps": 1, "hidden": 8, "kernel": 3, "coupling": "affine", "actnorm": true, "scaleFloor": 0.05},
        {"steps": 1, "hidden": 8, "kernel": 3, "coupling": "affine", "actnorm": true, "permutation": "1x1conv"},
        {"steps": 2, "hidden": 16, "kernel": 3, "coupling": "additive", "actnorm": true, "squeeze": false}]}""";

  @TempDir static Path dir;
  private static JsonNode result;
  private static String python;

  @BeforeAll
  static void analyseInBothFrameworks() throws Exception {
    python = TorchPython.find();
    Path data = firstImages(dir.resolve("data"), TRAIN, TEST);
    Path arch = Files.writeString(dir.resolve("small.json"), ARCH);
    Path runDir = dir.resolve("run");
    String r = runDir.toString();
    List<String[]> commands = List.of(
        new String[] {"train", "--arch", arch.toString(), "--data", data.toString(), "--out", r, "--epochs", "4",
            "--batch", "32", "--lr", "3e-3", "--warmup-steps", "10", "--no-progress"},
        new String[] {"eval", "--run", r},
        new String[] {"invert", "--run", r, "--count", "8", "--stability", "--stability-images", "worst",
            "--stability-method", "jacobian", "--no-progress"},
        new String[] {"interpolate", "--run", r, "--count", "3", "--steps", "5"},
        new String[] {"metamers", "--run", r, "--count", "6"},
        new String[] {"probe", "--run", r, "--layers", "--nuisance", "--linear", "--epochs", "2", "--train-count",
            Integer.toString(PROBE_TRAIN), "--test-count", Integer.toString(PROBE_TEST), "--seed", Long.toString(PROBE_SEED)},
        new String[] {"export", "--run", r, "--out", dir.resolve("check/model").toString()});
    for (String[] c : commands) {
      MainTest.Run out = run(Stream.concat(Arrays.stream(c), Stream.of("--threads", "1")).toArray(String[]::new));
      assertThat(out.code()).as(String.join(" ", c) + ": " + out.err()).isZero();
    }
    Path analysis = runDir.resolve("analysis");
    Map<String, String> files = new LinkedHashMap<>();
    files.put("eval", runDir.resolve("eval-test.json").toString());
    files.put("invert", analysis.resolve("invert.json").toString());
    files.put("interpolate", analysis.resolve("interpolate.json").toString());
    files.put("metamers", analysis.resolve("metamers.json").toString());
    files.put("layer_probes", analysis.resolve("layer-probes.json").toString());
    files.put("nuisance", analysis.resolve("nuisance-probe.json").toString());
    Files.writeString(dir.resolve("check/analysis.json"),
        Json.MAPPER.writeValueAsString(Map.of("data", data.toString(), "files", files)));
    Npz.write(dir.resolve("check/analysis-in.npz"), seededDraws(data));

    TorchPython.Result check = TorchPython.run(python, SCRIPT.toString(), dir.resolve("check").toString());
    assertThat(check.exitCode()).as(check.stderr()).isIn(0, 1);
    result = Json.MAPPER.readTree(check.stdout());
  }

  /**
   * What the script takes as given: eval's dequantised test images (noise drawn from {@link
   * Density#EVAL_SEED}), the probes' subsets (the first N of a seeded order, sorted) and the rows of
   * the training subset that the linear probes hold out to choose their penalty (the first fifth
   * of a permutation drawn from {@code probe --seed}).
   */
  private static Map<String, INDArray> seededDraws(Path data) {
    DataSource source = Datasets.open(data);
    INDArray test = Preprocess.padTo(source.test().images(), 32, 32);
    int[] held = Arrays.copyOf(Batches.permutation(PROBE_TRAIN, new Random(PROBE_SEED)), (int) Math.round(PROBE_TRAIN * 0.2));
    Arrays.sort(held);
    return Map.of("dequantized", Preprocess.dequantize(test, Density.EVAL_SEED), "held_out", Nd4j.createFromArray(held),
        "train_rows", Nd4j.createFromArray(subset(TRAIN, PROBE_TRAIN)), "test_rows", Nd4j.createFromArray(subset(TEST, PROBE_TEST)));
  }

  private static int[] subset(int size, int count) {
    int[] rows = Arrays.copyOf(Batches.order(size, PROBE_SEED, 0, true), count);
    Arrays.sort(rows);
    return rows;
  }

  /** The first {@code train} training and {@code test} test images of the shipped mini set, as IDX files. */
  static Path firstImages(Path out, int train, int test) throws IOException {
    Files.createDirectories(out);
    for (String split : new String[] {"train", "t10k"}) {
      int count = split.equals("train") ? train : test;
      copyHead(MINI.resolve(split + "-images-idx3-ubyte.gz"), out.resolve(split + "-images-idx3-ubyte"), count, 16, 784);
      copyHead(MINI.resolve(split + "-labels-idx1-ubyte.gz"), out.resolve(split + "-labels-idx1-ubyte"), count, 8, 1);
    }
    Files.copy(MINI.resolve("classes.txt"), out.resolve("classes.txt"));
    return out;
  }

  private static void copyHead(Path gz, Path to, int count, int header, int itemBytes) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
      byte[] bytes = in.readNBytes(header + count * itemBytes);
      ByteBuffer.wrap(bytes).putInt(4, count);
      Files.write(to, bytes);
    }
  }


  @Test
  void pyTorchComputesEveryAnalysisNumberAsWeWroteIt() {
    assertThat(TorchPython.failedChecks(result)).isEmpty();
  }

  /** Each file's numbers were compared, not skipped: a check of every kind is there and held. */
  @ParameterizedTest
  @ValueSource(strings = {"eval accuracy", "eval loss", "eval confusion_matrix", "eval bits_per_dim",
      "invert z float64 max_abs_err", "invert stage 2 float32 max_abs_err (order)", "invert max_abs_err_f32",
      "stability stage 1 inverse_lipschitz_max", "stability z condition_mean", "stability stage 2 ill_conditioned",
      "interpolate pair 2 full step 3 max_logit_drift", "interpolate pair 2 nuisance step 4 model_class",
      "metamers pair 5 dist_to_b", "metamers median_dist_to_a", "metamers rate_metamer_class_is_class_of_a",
      "probe stage 0 linear_accuracy", "probe stage 2 linear_l2", "probe stage 1 nearest_neighbour_accuracy",
      "probe pca 8 linear_accuracy", "probe pca 4 explained_variance", "nuisance excess",
      "eval accuracy_ci95", "eval per_class_accuracy_ci95 3", "probe logit_accuracy_ci95",
      "probe stage 1 nearest_neighbour_accuracy_ci95", "probe stage 2 linear_accuracy_ci95", "probe pca 4 linear_accuracy_ci95",
      "nuisance logit_correct", "nuisance nuisance_correct", "nuisance logit_accuracy_ci95",
      "nuisance nuisance_accuracy_ci95", "nuisance excess_p_value", "nuisance linear_correct",
      "nuisance linear_correct share", "nuisance linear_l2", "nuisance linear_objective", "nuisance linear_accuracy", "nuisance linear_train_accuracy",
      "nuisance linear_accuracy_ci95", "nuisance linear_probe penalties", "nuisance linear_held_out",
      "nuisance linear_l2_ties"})
  void everyKindOfNumberWasChecked(String name) {
    TorchPython.assertChecked(result, name);
  }

  /**
   * Exact agreement of classes and nearest neighbours means something only when no float32 rounding
   * could have decided them: our eval, metamers and features run the float32 model (logits and
   * features to about 1e-6), so the recomputation's smallest logit gap and its smallest relative gap
   * between a nearest and a next-nearest squared distance must be well above that. The linear
   * probes stop at a gradient of 1e-4, which leaves images with a logit gap below 1e-3 at the
   * minimum undecided (one training image of 300, at 2.4e-4, was on the other side in ours): the
   * script lets an accuracy differ by those, and there must be few. The nuisance's linear reader
   * stops at a gradient of 1e-6, which on its 1,014 dimensions leaves margins up to about 2.4e-4 /
   * l2 from the minimum's (the script's reader_allowance, twice that): its per-image results are
   * compared at the images whose margin is larger, which must be nearly all (none of the 120 test
   * images fell below it; at the earlier 1e-4 and 2e-2 / l2, 42). Its Newton fits reached the
   * minimum.
   */
  @Test
  void noClassOrNeighbourWasDecidedByRounding() {
    JsonNode m = result.path("margins");
    for (String name : new String[] {"eval classes", "interpolate classes", "metamers classes of metamer"}) {
      assertThat(m.path(name).asDouble(0)).as(name + ": " + m).isGreaterThan(1e-4);
    }
    assertThat(m.path("probe 1-NN relative distance gap").asDouble(0)).as(m.toString()).isGreaterThan(1e-6);
    assertThat(m.path("probe undecided images").asInt(99)).as(m.toString()).isLessThanOrEqualTo(4);
    assertThat(m.path("nuisance linear undecided test images").asInt(PROBE_TEST)).as(m.toString())
        .isLessThanOrEqualTo(2);
    assertThat(m.path("nuisance linear undecided training images").asInt(PROBE_TRAIN)).as(m.toString())
        .isLessThanOrEqualTo(2);
    assertThat(m.path("probe largest final gradient").asDouble(1)).as(m.toString()).isLessThan(1e-9);
  }

  /** The script's bad input is one line naming the directory and what is wrong, exit code 2. */
  @Test
  void theScriptRefusesBadInputInOneLine(@TempDir Path tmp) throws Exception {
    TorchPython.assertRefusesAnEmptyDirectory(python, SCRIPT, "analysis.json", tmp);
  }
}
