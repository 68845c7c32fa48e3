package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.irevnet.testing.TinyData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class BaselineCommandsTest {
  @Test
  void aBaselineTrainsEvaluatesProbesAndIsAttackedLikeAnInvertibleRun(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 48, 20);
    Path run = tmp.resolve("cnn");
    MainTest.Run t = MainTest.run("train", "--arch", "cnn-s", "--data", data.toString(), "--out", run.toString(),
        "--epochs", "1", "--batch", "16", "--no-progress");
    assertThat(t.code()).as(t.err()).isZero();
    assertThat(Files.exists(run.resolve("checkpoints/best/model.zip"))).isTrue();
    MainTest.Run e = MainTest.run("eval", "--run", run.toString());
    assertThat(e.code()).as(e.err()).isZero();
    assertThat(Json.MAPPER.readTree(e.out()).get("count").asInt()).isEqualTo(20);
    MainTest.Run p = MainTest.run("probe", "--run", run.toString(), "--layers");
    assertThat(p.code()).as(p.err()).isZero();
    JsonNode probes = Json.MAPPER.readTree(run.resolve("analysis/layer-probes.json").toFile());
    assertThat(probes.get("stages")).hasSize(5);
    assertThat(probes.get("stages").get(0).get("layer").asText()).isEqualTo("conv1");
    MainTest.Run a = MainTest.run("attack", "--run", run.toString(), "--attack", "feature-match", "--layer", "dense",
        "--count", "4", "--steps", "3", "--eps", "0.1");
    assertThat(a.code()).as(a.err()).isZero();
    JsonNode fm = Json.MAPPER.readTree(run.resolve("analysis/attack-feature-match.json").toFile());
    assertThat(fm.get("layer_name").asText()).isEqualTo("dense");
    assertThat(fm.get("sanity").get("passed").asBoolean()).isTrue();
    MainTest.Run f = MainTest.run("attack", "--run", run.toString(), "--attack", "fgsm", "--count", "8", "--eps", "0.1");
    assertThat(f.code()).as(f.err()).isZero();
    MainTest.Run m = MainTest.run("metamers", "--run", run.toString());
    assertThat(m.code()).isEqualTo(2);
    assertThat(m.err()).contains("needs an invertible model");
    MainTest.Run s = MainTest.run("sample", "--run", run.toString());
    assertThat(s.code()).isEqualTo(2);
    assertThat(s.err().strip()).isEqualTo("irevnet sample: this needs an invertible model; " + run.resolve("checkpoints/best")
        + " holds a DL4J network, which is not (per-layer probes, eval and the fgsm, pgd and feature-match attacks work on it)");
    // Said before anything about the data, such as training and test images of two sizes, which
    // --probe-class's split refuses: of the two, only the model cannot be mended by other data.
    Path mixed = Files.createDirectories(tmp.resolve("mixed"));
    for (String file : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte")) {
      Files.copy(data.resolve(file), mixed.resolve(file));
    }
    org.irevnet.data.IdxFiles.writeImages(mixed.resolve("t10k-images-idx3-ubyte"), 20, 31, 31, new byte[20 * 31 * 31]);
    MainTest.Run mm = MainTest.run("metamers", "--run", run.toString(), "--data", mixed.toString(), "--probe-class",
        "--out", tmp.resolve("mm").toString());
    assertThat(mm.code()).isEqualTo(2);
    assertThat(mm.err()).contains("needs an invertible model");
  }

  @Test
  void aUsersModelZipIsProbedAttackedAndReportedWithModel(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 40, 20);
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-3))
        .list()
        .layer(new ConvolutionLayer.Builder(5, 5).stride(2, 2).nOut(4).name("conv").activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).name("pool").build())
        .layer(new DenseLayer.Builder().nOut(16).name("hidden").activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1)).build());
    Path zip = saved(net, tmp.resolve("mine.zip"));

    MainTest.Run noData = MainTest.run("probe", "--model", zip.toString(), "--layers");
    assertThat(noData.code()).isEqualTo(2);
    assertThat(noData.err()).contains("--model needs --data");
    // Given relative, the data is recorded absolute in the analysis directory's config.json.
    String relative = Path.of("").toAbsolutePath().relativize(data.toAbsolutePath()).toString();
    MainTest.Run p = MainTest.run("probe", "--model", zip.toString(), "--data", relative, "--layers",
        "--probe-layers", "pool,hidden");
    assertThat(p.code()).as(p.err()).isZero();
    assertThat(Json.MAPPER.readTree(tmp.resolve("mine-analysis/config.json").toFile()).path("config").path("data")
        .asText()).isEqualTo(data.toAbsolutePath().normalize().toString());
    // Data of 3 classes for its 10 outputs was accepted: eval showed a 10x10 matrix under 3 names.
    Path three = Files.createDirectories(tmp.resolve("three"));
    org.irevnet.data.IdxFiles.writeImages(three.resolve("t10k-images-idx3-ubyte"), 3, 28, 28, new byte[3 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(three.resolve("t10k-labels-idx1-ubyte"), new int[] {0, 1, 2});
    Files.writeString(three.resolve("classes.txt"), "a\nb\nc\n");
    MainTest.Run fewer = MainTest.run("eval", "--model", zip.toString(), "--data", three.toString(), "--as", "three");
    assertThat(fewer.code()).isEqualTo(2);
    assertThat(fewer.err()).isEqualTo("irevnet eval: three/test: 3 classes, the model " + zip + " has 10 outputs;"
        + " evaluate it on data with its 10 classes\n");
    Path dir = tmp.resolve("mine-analysis");
    JsonNode probes = Json.MAPPER.readTree(dir.resolve("analysis/layer-probes.json").toFile());
    assertThat(probes.get("stages")).hasSize(2);
    assertThat(probes.get("stages").get(1).get("layer").asText()).isEqualTo("hidden");
    MainTest.Run a = MainTest.run("attack", "--model", zip.toString(), "--data", data.toString(), "--attack",
        "feature-match", "--count", "4", "--steps", "2", "--eps", "0.1");
    assertThat(a.code()).as(a.err()).isZero();
    assertThat(dir.resolve("analysis/attack-feature-match.json")).exists();
    // A layer outside the probed ones: the message says how to reach it.
    MainTest.Run unprobed = MainTest.run("attack", "--model", zip.toString(), "--data", data.toString(), "--attack",
        "feature-match", "--probe-layers", "pool", "--layer", "hidden", "--count", "4", "--steps", "2", "--eps", "0.1");
    assertThat(unprobed.code()).isEqualTo(2);
    assertThat(unprobed.err()).isEqualTo("irevnet attack: --layer: no layer 'hidden' (layers: 0..0, 'last' or one of"
        + " [pool]); another layer or vertex of the network must be named in --probe-layers too\n");
    MainTest.Run r = MainTest.run("report", zip.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(Files.readString(dir.resolve("report.html"))).contains("hidden");
  }

  @Test
  void aModelsResultsOnOtherDataNeedAsOrOutLikeARunsDo(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 40, 20);
    Path other = TinyData.idx(tmp.resolve("other"), 40, 12);
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new DenseLayer.Builder().nOut(8).name("hidden").activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional(28, 28, 1)).build());
    Path zip = saved(net, tmp.resolve("mine.zip"));
    Path dir = tmp.resolve("mine-analysis");
    MainTest.Run own = MainTest.run("eval", "--model", zip.toString(), "--data", data.toString());
    assertThat(own.code()).as(own.err()).isZero();
    assertThat(Json.MAPPER.readTree(dir.resolve("eval-test.json").toFile()).get("count").asInt()).isEqualTo(20);
    // Other data replaced eval-test.json while config.json still named the first data, and the
    // report showed its accuracy as the model's on that data.
    MainTest.Run e = MainTest.run("eval", "--model", zip.toString(), "--data", other.toString());
    assertThat(e.code()).isEqualTo(2);
    assertThat(e.err()).contains("is not the data " + zip + " was analysed on").contains("--as NAME");
    assertThat(Json.MAPPER.readTree(dir.resolve("eval-test.json").toFile()).get("count").asInt()).isEqualTo(20);
    MainTest.Run named = MainTest.run("eval", "--model", zip.toString(), "--data", other.toString(), "--as", "other");
    assertThat(named.code()).as(named.err()).isZero();
    assertThat(dir.resolve("eval-other.json")).exists();
    MainTest.Run a = MainTest.run("attack", "--model", zip.toString(), "--data", other.toString(), "--attack", "fgsm",
        "--count", "4", "--eps", "0.1");
    assertThat(a.code()).isEqualTo(2);
    assertThat(a.err()).contains("give --out DIR");
    assertThat(dir.resolve("analysis")).doesNotExist();
    MainTest.Run same = MainTest.run("attack", "--model", zip.toString(), "--data", data.toString(), "--attack", "fgsm",
        "--count", "4", "--eps", "0.1");
    assertThat(same.code()).as(same.err()).isZero();

    // The directory records its data by content, as train does: moved, the data is still the
    // model's, and other data is still told apart (without the record, anything was taken once
    // the recorded directory was gone, and replaced eval-test.json).
    assertThat(Json.MAPPER.readTree(dir.resolve("config.json").toFile()).path("dataset").path("test_images").asInt())
        .isEqualTo(20);
    Path moved = Files.move(data, tmp.resolve("moved"));
    MainTest.Run otherAfterMove = MainTest.run("eval", "--model", zip.toString(), "--data", other.toString());
    assertThat(otherAfterMove.code()).isEqualTo(2);
    assertThat(otherAfterMove.err()).contains("--as NAME");
    MainTest.Run ownMoved = MainTest.run("eval", "--model", zip.toString(), "--data", moved.toString());
    assertThat(ownMoved.code()).as(ownMoved.err()).isZero();
    assertThat(Json.MAPPER.readTree(dir.resolve("eval-test.json").toFile()).get("count").asInt()).isEqualTo(20);
  }

  /**
   * A softmax regression (its output layer reads the images) has no layer to probe or match:
   * probe --layers said "need the same (non-zero) number of stages in both splits, got 0 and 0"
   * after loading both splits, feature-match "layer must be in 0..-1, got -1". Both now name
   * the model and why, writing nothing; eval and fgsm, which need no hidden layer, still work.
   */
  @Test
  void aModelWithoutHiddenLayersIsRefusedForProbesAndFeatureMatchingNamingWhy(@TempDir Path tmp) throws Exception {
    Path data = TinyData.idx(tmp.resolve("data"), 40, 20);
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
        .setInputType(InputType.convolutional(28, 28, 1)).build());
    Path zip = saved(net, tmp.resolve("softmax.zip"));
    String why = "softmax.zip (DL4J 1 layers, not invertible): input [1, 1, 28, 28], 7,850 parameters: no hidden layer or"
        + " vertex to probe (its output layer reads the input)";
    for (List<String> args : List.of(List.of("probe", "--layers"),
        List.of("attack", "--attack", "feature-match", "--count", "2", "--steps", "1"))) {
      List<String> all = new java.util.ArrayList<>(args);
      all.addAll(List.of("--model", zip.toString(), "--data", data.toString()));
      MainTest.Run r = MainTest.run(all.toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isEqualTo(2);
      assertThat(r.err().strip()).as(args.get(0)).endsWith(why).doesNotContain("\n");
      assertThat(tmp.resolve("softmax-analysis/analysis")).as(args.get(0)).doesNotExist();
    }
    assertThat(MainTest.run("eval", "--model", zip.toString(), "--data", data.toString()).code()).isZero();
    assertThat(MainTest.run("attack", "--attack", "fgsm", "--count", "4", "--model", zip.toString(), "--data",
        data.toString()).code()).isZero();
  }

  /** {@code net}, initialised, as a model zip a user would pass with --model. */
  private static Path saved(MultiLayerNetwork net, Path zip) throws java.io.IOException {
    net.init();
    ModelSerializer.writeModel(net, zip.toFile(), false);
    return zip;
  }
}
