package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.irevnet.io.Npz;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.irevnet.nn.Tensors;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** export of a tiny trained run; the PyTorch side is ModelExportTorchTest's. */
class ExportCommandTest {

  @Test
  void exportWritesTheCheckpointsModelAndItsOutputsOnTheFirstTestImages(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();

    MainTest.Run r = run("export", "--run", tiny.dir().toString(), "--count", "5", "--checkpoint", "latest");
    assertThat(r.code()).as(r.err()).isZero();
    Path dir = tiny.dir().resolve("export");
    assertThat(r.out()).contains("checkpoint latest").contains(dir + ": model.json, weights.npz, check.npz (5 images of")
        .contains("python3 scripts/torch_port.py " + dir);
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("model.json", "weights.npz",
          "check.npz");
    }
    // The weights are the checkpoint's, and check.npz what they compute on the inputs it holds.
    Path latest = Trainer.latest(tiny.dir());
    assertThat(Files.readAllBytes(dir.resolve(ModelFiles.WEIGHTS))).isEqualTo(Files.readAllBytes(latest.resolve(ModelFiles.WEIGHTS)));
    Map<String, INDArray> check = Npz.read(dir.resolve("check.npz"));
    INDArray x = check.get("x");
    assertThat(x.shape()).containsExactly(5, 1, 32, 32);
    assertThat(check.get("labels").toLongVector()).hasSize(5);
    InvertibleClassifier f64 = Checkpoints.load(latest, DataType.DOUBLE).model();
    InvertibleClassifier.Forward f = f64.forward(x.castTo(DataType.DOUBLE), false);
    assertThat(Tensors.maxAbs(check.get("z_f64").sub(f.z()))).isLessThan(1e-12);
    assertThat(Tensors.maxAbs(check.get("logits_f64").sub(f.logits()))).isLessThan(1e-12);
    assertThat(Tensors.maxAbs(check.get("log_det_f64").sub(f.logDet()))).isLessThan(1e-9);
    assertThat(Tensors.maxAbs(check.get("z_f32").castTo(DataType.DOUBLE).sub(f.z()))).isBetween(0.0, 1e-4);
    assertThat(Tensors.maxAbs(check.get("z_f64"))).isGreaterThan(0.1);
  }

  @Test
  void exportRefusesACheckpointDirectoryAndABaselineRunAndWritesNothing(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    Path best = Trainer.best(tiny.dir());
    byte[] weights = Files.readAllBytes(best.resolve(ModelFiles.WEIGHTS));

    MainTest.Run r = run("export", "--run", tiny.dir().toString(), "--out", best.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet export: " + best + " is a checkpoint, which training replaces whole:"
        + " choose another directory");
    assertThat(Files.readAllBytes(best.resolve(ModelFiles.WEIGHTS))).isEqualTo(weights);
    assertThat(best.resolve("check.npz")).doesNotExist();

    // Another run's analysis/: its report showed the exported model.json among that run's results.
    Path other = tmp.resolve("other"), theirs = MainTest.runsAnalysis(other);
    MainTest.Run a = run("export", "--run", tiny.dir().toString(), "--out", theirs.toString());
    assertThat(a.code()).as(a.err()).isEqualTo(2);
    assertThat(a.err().strip()).isEqualTo("irevnet export: --out " + theirs + " is the analysis directory of the run "
        + other + ", whose report would show this export as that run's own results: give another directory");
    assertThat(theirs).isEmptyDirectory();

    // A DL4J baseline's run has no invertible model to export.
    Path cnn = tmp.resolve("cnn");
    MainTest.Run train = run("train", "--arch", "cnn-s", "--data", tiny.data().toString(), "--out", cnn.toString(),
        "--epochs", "1", "--batch", "16", "--max-steps", "1", "--no-progress");
    assertThat(train.code()).as(train.err()).isZero();
    MainTest.Run m = run("export", "--run", cnn.toString(), "--out", tmp.resolve("e").toString());
    assertThat(m.code()).isEqualTo(2);
    assertThat(m.err()).startsWith("irevnet export: this needs an invertible model;");
    assertThat(tmp.resolve("e")).doesNotExist();
  }
}
