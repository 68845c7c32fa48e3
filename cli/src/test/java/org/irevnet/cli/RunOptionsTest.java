package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an analysis command is given ({@code --run} or {@code --model} with {@code --data}) and
 * what {@link RunInputs} refuses before it loads a model; run directories here are made by hand.
 */
class RunOptionsTest {

  private static RunOrProbedModelOptions options(Path run, Path model, String data) {
    RunOrProbedModelOptions o = new RunOrProbedModelOptions();
    o.run = run;
    o.model = model;
    o.data = data;
    return o;
  }

  /** A run directory whose config.json names {@code data}, with a (fake) manifest in each of {@code checkpoints}. */
  private static Path run(Path dir, String data, String... checkpoints) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(Trainer.CONFIG), data == null ? "{\"config\": {}}"
        : "{\"config\": {\"data\": \"" + data + "\"}}");
    for (String c : checkpoints) {
      Path ck = Files.createDirectories(dir.resolve("checkpoints").resolve(c));
      Files.writeString(ck.resolve(Checkpoints.MANIFEST), "{}");
    }
    return dir;
  }

  @Test
  void eitherARunOrAModelWithItsData(@TempDir Path tmp) throws Exception {
    String either = "give either --run RUN_DIR or --model FILE";
    assertThatThrownBy(() -> options(null, null, "d").runDir()).hasMessage(either);
    assertThatThrownBy(() -> options(tmp, tmp.resolve("m.zip"), "d").runDir()).hasMessage(either);
    assertThatThrownBy(() -> options(null, tmp.resolve("m.zip"), null).load())
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--model needs --data (the dataset to analyse it on)");
    RunOrProbedModelOptions noLayers = options(tmp, null, null);
    noLayers.probeLayers = List.of();
    assertThatThrownBy(noLayers::runDir).hasMessage("--probe-layers: no layers given");
    RunOrProbedModelOptions layers = options(tmp, null, "d");
    layers.probeLayers = List.of("dense");
    assertThat(layers.runDir()).as("once the layers pass").isEqualTo(tmp);
  }

  @Test
  void aModelsAnalysesGoNextToItsZip(@TempDir Path tmp) {
    assertThat(RunOptions.modelRunDir(tmp.resolve("nets/mine.zip"))).isEqualTo(tmp.resolve("nets/mine-analysis"));
    assertThat(RunOptions.modelRunDir(tmp.resolve("mine.bin"))).isEqualTo(tmp.resolve("mine.bin-analysis"));
    assertThat(RunOptions.modelRunDir(Path.of("mine.zip"))).isEqualTo(Path.of("mine-analysis").toAbsolutePath());
  }

  /**
   * A baseline's checkpoint given as --model made its analysis directory inside the checkpoint
   * (checkpoints/latest/model-analysis), and train --resume then refused the run. It is refused,
   * naming the run to give with --run, before anything is made; the same zip copied out is taken.
   */
  @Test
  void aBaselinesCheckpointIsRefusedAsAModelNamingItsRun(@TempDir Path tmp) throws Exception {
    Path run = run(tmp.resolve("runs/cnn"), "fashion-mnist-mini", "best", "latest");
    String d = org.irevnet.testing.TinyData.idx(tmp.resolve("d"), 10, 2).toString();
    Files.writeString(run.resolve("checkpoints/latest").resolve(Checkpoints.TRAINING), "{}");
    for (String checkpoint : List.of("best", "latest")) {
      Path zip = Files.writeString(run.resolve("checkpoints").resolve(checkpoint).resolve(Checkpoints.NETWORK), "zip");
      // best is told by the checkpoints/ directory it lies in, latest by its manifest and training.json
      Path in = run.toAbsolutePath().resolve(checkpoint.equals("best") ? "checkpoints" : "checkpoints/latest");
      assertThatThrownBy(() -> options(null, zip, d).runDir()).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("--model " + zip + " lies in " + in + ", a run's checkpoints: analyse it with --run "
              + run.toAbsolutePath() + " (--model would write its analysis directory there, which training replaces)");
      assertThat(RunOptions.modelRunDir(zip)).doesNotExist();
    }
    Path copy = Files.copy(run.resolve("checkpoints/best").resolve(Checkpoints.NETWORK), tmp.resolve("cnn.zip"));
    assertThat(options(null, copy, d).runDir()).isEqualTo(tmp.resolve("cnn-analysis")).isDirectory();
    // A folder of the user's own with a manifest.json of its own is no checkpoint.
    Path mine = Files.createDirectories(tmp.resolve("nets"));
    Files.writeString(mine.resolve(Checkpoints.MANIFEST), "{\"files\": [\"mine.zip\"]}");
    Path own = Files.copy(copy, mine.resolve("mine.zip"));
    assertThat(options(null, own, d).runDir()).isEqualTo(mine.resolve("mine-analysis")).isDirectory();
  }

  /**
   * --out is where the results go, as given (a name not in ASCII too); without it a run's go
   * under RUN_DIR/analysis and a model's under its own analysis directory, where report reads them.
   */
  @Test
  void theOutputIsOutElseTheAnalysisDirectoryOfTheRunOrModel(@TempDir Path tmp) throws Exception {
    AnalysisOutput o = new AnalysisOutput();
    assertThat(o.dir(options(tmp.resolve("r"), null, null))).isEqualTo(tmp.resolve("r/analysis"));
    String d = org.irevnet.testing.TinyData.idx(tmp.resolve("d"), 10, 2).toString();
    assertThat(o.dir(options(null, tmp.resolve("nets/mine.zip"), d))).isEqualTo(tmp.resolve("nets/mine-analysis/analysis"));
    o.out = tmp.resolve(MainTest.fileName("résumé/ergebnisse"));
    assertThat(o.dir(options(tmp.resolve("r"), null, null))).isEqualTo(tmp.resolve(MainTest.fileName("résumé/ergebnisse")));
  }

  /**
   * For --model the analysis directory gets a config.json naming the model and data, and what the
   * data is by content, once; data that is not there makes no directory.
   */
  @Test
  void aModelsRunDirectoryIsMadeWithItsConfigOnce(@TempDir Path tmp) throws Exception {
    Path zip = tmp.resolve("mine.zip");
    assertThatThrownBy(() -> options(null, zip, "some-data").runDir()).hasMessageStartingWith("some-data: no such directory");
    assertThat(tmp.resolve("mine-analysis")).doesNotExist();
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("some-data"), 10, 3);
    Path dir = options(null, zip, data.toString()).runDir();
    assertThat(dir).isEqualTo(tmp.resolve("mine-analysis"));
    JsonNode cfg = Json.MAPPER.readTree(dir.resolve(Trainer.CONFIG).toFile());
    assertThat(cfg.at("/config/arch").asText()).isEqualTo("DL4J model mine.zip");
    assertThat(cfg.at("/config/model").asText()).isEqualTo(zip.toString());
    assertThat(cfg.at("/config/data").asText()).isEqualTo(data.toString());
    assertThat(cfg.at("/dataset/test_images").asInt()).isEqualTo(3);
    assertThat(cfg.at("/dataset/test_sha256").asText())
        .isEqualTo(org.irevnet.data.DataIdentity.of(Datasets.resolve(data.toString())).testSha256());
    assertThat(cfg.at("/environment/nd4j").asText()).isEqualTo("1.0.0-M2.1");
    Files.writeString(dir.resolve(Trainer.CONFIG), "{\"config\": {\"data\": \"first\"}}");
    assertThat(options(null, zip, "other-data").runDir()).isEqualTo(dir);
    assertThat(dir.resolve(Trainer.CONFIG)).as("kept").hasContent("{\"config\": {\"data\": \"first\"}}");
    assertThat(options(tmp, null, null).runDir()).isEqualTo(tmp);
  }

  @Test
  void theDataIsGivenOrTheRunsOwn(@TempDir Path tmp) throws Exception {
    Path r = run(tmp.resolve("r"), "fashion-mnist-mini");
    assertThat(RunInputs.dataName(r, null)).isEqualTo("fashion-mnist-mini");
    assertThat(RunInputs.dataName(r, "other")).isEqualTo("other");
    Path none = run(tmp.resolve("none"), null);
    assertThatThrownBy(() -> RunInputs.dataName(none, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(none.resolve(Trainer.CONFIG) + ": no config.data; pass --data");
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertThatThrownBy(() -> RunInputs.dataName(empty, null))
        .hasMessage(empty.resolve(Trainer.CONFIG) + ": not found; pass --data");
  }

  /**
   * --checkpoint belongs to runs; with --model, best (the default) goes on to load the model, and a
   * misspelt word is named as with --run.
   */
  @Test
  void aModelTakesNoCheckpoint(@TempDir Path tmp) {
    RunOptions m = options(null, tmp.resolve("m.zip"), "no-such-data-set");
    assertThatThrownBy(() -> m.load("latest", Split.TEST)).hasMessage("--checkpoint applies to --run only");
    assertThatThrownBy(() -> m.load("bset", Split.TEST)).hasMessage("--checkpoint must be best or latest, got bset");
    for (String ck : new String[] {null, "best"}) {
      assertThatThrownBy(() -> m.load(ck, Split.TEST)).as(ck).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("no-such-data-set");
    }
  }

  @Test
  void aRunThatIsNoDirectoryOrHasNoCheckpointIsRefused(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThatThrownBy(() -> RunInputs.load(file, null, null, Split.TEST, null)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(file + ": not a directory (--run takes a run directory)");
    Path missing = tmp.resolve("missing");
    assertThatThrownBy(() -> options(missing, null, null).load()).hasMessage(missing + ": no such run directory");

    Path untrained = run(tmp.resolve("untrained"), "d");
    assertThatThrownBy(() -> RunInputs.load(untrained, null, null, Split.TEST, null))
        .hasMessage(Trainer.latest(untrained) + ": no checkpoint (has " + untrained + " been trained?)");
    assertThatThrownBy(() -> RunInputs.load(untrained, null, "last", Split.TEST, null))
        .hasMessage("--checkpoint must be best or latest, got last");

    Path stopped = run(tmp.resolve("stopped"), "d", "latest");
    assertThatThrownBy(() -> RunInputs.load(stopped, null, "best", Split.TEST, null))
        .hasMessage(Trainer.best(stopped) + ": no checkpoint yet (best is saved at the end of an epoch); --checkpoint"
            + " latest takes " + Trainer.latest(stopped));

    // Its latest deleted by hand, its best there: not "has it been trained?".
    Path withoutLatest = run(tmp.resolve("without-latest"), "d", "best");
    assertThatThrownBy(() -> RunInputs.load(withoutLatest, null, "latest", Split.TEST, null))
        .hasMessage(Trainer.latest(withoutLatest) + ": no checkpoint (missing; --checkpoint best takes "
            + Trainer.best(withoutLatest) + ")");
  }

  /** Without --checkpoint, best when there is one, else latest: both get past the checkpoint to the data. */
  @Test
  void theDefaultCheckpointIsBestElseLatest(@TempDir Path tmp) throws Exception {
    for (String ck : new String[] {"best", "latest"}) {
      Path r = run(tmp.resolve(ck), "no-such-data-set", ck);
      assertThatThrownBy(() -> RunInputs.load(r, null, null, Split.TEST, null)).as(ck)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no-such-data-set");
    }
  }

  /**
   * A run's saved model (not trained: saved by hand) with the run's data prepared for it; other
   * data is taken only with the classes the run was trained on, and any data only with as many
   * classes as the model has outputs.
   */
  @Test
  void aRunsModelComesWithItsDataOrOtherDataOfItsClasses(@TempDir Path tmp) throws Exception {
    List<String> names = List.of("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9");
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 10, 4);
    Files.write(data.resolve("classes.txt"), names);
    Path r = run(tmp.resolve("r"), data.toString());
    org.irevnet.models.InvertibleClassifier saved = org.irevnet.testing.TinyData.perturbedModel();
    var adam = java.util.Map.of("t", org.nd4j.linalg.factory.Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1));
    var state = new Checkpoints.TrainingState(1, 0, 1, 0, "{}", 1.0);
    Checkpoints.save(Trainer.latest(r), saved, adam, state);

    RunInputs in = RunInputs.load(r, null, null, Split.TEST, null);
    assertThat(in.checkpoint()).isEqualTo("latest");
    for (var e : saved.params().entries().entrySet()) {
      assertThat(in.model().params().get(e.getKey()).value()).as(e.getKey()).isEqualTo(e.getValue().value());
    }
    assertThat(in.data().images().shape()).as("padded to the model's input").containsExactly(4, 1, 32, 32);
    assertThat(in.content()).as("the images as stored").isEqualTo(new RunInputs.Content(1, 28, 28));
    assertThat(in.data().classNames()).isEqualTo(names);
    assertThat(in.splits().apply(Split.TRAIN).images().shape()).containsExactly(10, 1, 32, 32);
    // Other data of three of the run's classes: every split is labelled in the run's ten (the
    // training split, which probe reads, was refused for its class count).
    Path some = idxTest(tmp.resolve("some"), new int[] {0, 1, 2}, "c2", "c5", "c7");
    org.irevnet.data.IdxFiles.writeImages(some.resolve("train-images-idx3-ubyte"), 2, 28, 28, new byte[2 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(some.resolve("train-labels-idx1-ubyte"), new int[] {2, 0});
    RunInputs onSome = RunInputs.load(r, some.toString(), null, Split.TEST, null);
    assertThat(onSome.data().labels()).containsExactly(2, 5, 7);
    Dataset someTrain = onSome.splits().apply(Split.TRAIN);
    assertThat(someTrain.classNames()).isEqualTo(names);
    assertThat(someTrain.labels()).containsExactly(7, 2);
    assertThat(someTrain.images().shape()).containsExactly(2, 1, 32, 32);
    assertThatThrownBy(() -> RunInputs.load(r, null, null, Split.TEST, List.of("conv1")))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("--probe-layers applies to DL4J networks only");

    Path copy = org.irevnet.testing.TinyData.idx(tmp.resolve("copy"), 10, 4);
    Files.write(copy.resolve("classes.txt"), names);
    assertThat(RunInputs.load(r, copy.toString(), null, Split.TEST, null).data().size()).isEqualTo(4);
    assertRefusesRenamedClasses(tmp, r, names);

    Path eleven = org.irevnet.testing.TinyData.idx(tmp.resolve("eleven"), 10, 4);
    Files.write(eleven.resolve("classes.txt"), java.util.stream.IntStream.range(0, 11).mapToObj(i -> "c" + i).toList());
    Path other = run(tmp.resolve("other"), eleven.toString());
    Checkpoints.save(Trainer.latest(other), saved, adam, state);
    assertThatThrownBy(() -> RunInputs.load(other, null, null, Split.TEST, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("eleven/test: 11 classes, the run's model has 10 outputs; evaluate it on data with its 10 classes");
  }

  /** Data whose classes have other names than the run's (same count) is refused, naming both lists. */
  private static void assertRefusesRenamedClasses(Path tmp, Path run, List<String> names) throws java.io.IOException {
    Path renamed = org.irevnet.testing.TinyData.idx(tmp.resolve("renamed"), 10, 4);
    List<String> others = names.stream().map(n -> n.replace('c', 'k')).toList();
    Files.write(renamed.resolve("classes.txt"), others);
    assertThatThrownBy(() -> RunInputs.load(run, renamed.toString(), null, Split.TEST, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("renamed/test: classes " + others + ", but the run was trained on data with " + names
            + "; 'k0' is not one of them");
  }

  /** An IDX test split in {@code dir} with these labels and class names. */
  private static Path idxTest(Path dir, int[] labels, String... classes) throws java.io.IOException {
    Files.createDirectories(dir);
    org.irevnet.data.IdxFiles.writeImages(dir.resolve("t10k-images-idx3-ubyte"), labels.length, 28, 28,
        new byte[labels.length * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), labels);
    Files.write(dir.resolve("classes.txt"), List.of(classes));
    return dir;
  }

  /**
   * Other data with some of the run's classes, named as the run's but in another order and with a
   * name decomposed (NFD, as folders copied from macOS are), is labelled in the run's classes: it
   * was refused, though the names looked the same in the message. A name the run lacks is refused.
   */
  @Test
  void otherDataWithSomeOfTheRunsClassesIsLabelledInTheRunsClasses(@TempDir Path tmp) throws Exception {
    String composed = "\u00c4rmel", decomposed = "A\u0308rmel";
    Path data = idxTest(tmp.resolve("data"), new int[] {0, 1, 2}, composed, "b", "c");
    Path r = run(tmp.resolve("r"), data.toString());
    Path sub = idxTest(tmp.resolve("sub"), new int[] {0, 1, 1, 0}, "c", decomposed);
    Dataset d = RunInputs.inRunClasses(r, sub.toString()).apply(Datasets.resolve(sub.toString()).load(Split.TEST));
    assertThat(d.classNames()).containsExactly(composed, "b", "c");
    assertThat(d.labels()).containsExactly(2, 0, 0, 2);
    Path stranger = idxTest(tmp.resolve("stranger"), new int[] {0, 1}, "b", "x");
    assertThatThrownBy(() -> RunInputs.inRunClasses(r, stranger.toString())
        .apply(Datasets.resolve(stranger.toString()).load(Split.TEST)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("stranger/test: classes [b, x], but the run was trained on data with [" + composed
            + ", b, c]; 'x' is not one of them");
    // IDX files without a classes.txt: the refusal says that their classes are numbers, and how to name them.
    Path numbered = org.irevnet.testing.TinyData.idx(tmp.resolve("numbered"), 2, 3);
    assertThatThrownBy(() -> RunInputs.inRunClasses(r, numbered.toString())
        .apply(Datasets.resolve(numbered.toString()).load(Split.TEST)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("numbered/test: classes [0, 1, 2], but the run was trained on data with [" + composed
            + ", b, c]; '0' is not one of them (numbered names no classes, so they are numbered by label: a classes.txt"
            + " in it, one name a line in label order, names them)");
    // The run's own data, and data named as it, are taken as they are.
    assertThat(RunInputs.inRunClasses(r, null).apply(d)).isSameAs(d);
  }

  /**
   * A run's DL4J network comes with its data padded as the baselines train on it; a user's model
   * zip with the data as it is. Data of fewer classes than the outputs is refused for both.
   */
  @Test
  void aNetworkComesWithItsDataPreparedForIt(@TempDir Path tmp) throws Exception {
    Path data = org.irevnet.testing.TinyData.idx(tmp.resolve("data"), 10, 4);
    Path three = Files.createDirectories(tmp.resolve("three"));
    org.irevnet.data.IdxFiles.writeImages(three.resolve("t10k-images-idx3-ubyte"), 3, 28, 28, new byte[3 * 28 * 28]);
    org.irevnet.data.IdxFiles.writeLabels(three.resolve("t10k-labels-idx1-ubyte"), new int[] {0, 1, 2});
    Path r = run(tmp.resolve("r"), data.toString());
    Files.writeString(r.resolve(Trainer.CONFIG), "{\"config\": {\"data\": \"" + data + "\", \"arch\": \"cnn-s\"}}");
    var network = org.irevnet.models.Baselines.build("cnn-s", 1, 10, 1, 1e-3, 0);
    var state = new Checkpoints.TrainingState(1, 0, 1, 0, "{}", 1.0);
    Checkpoints.save(Trainer.latest(r), network, state);
    RunInputs in = RunInputs.load(r, null, null, Split.TEST, null);
    assertThat(in.classifier().numClasses()).isEqualTo(10);
    assertThat(in.checkpoint()).isEqualTo("latest");
    assertThat(in.data().images().shape()).containsExactly(4, 1, 32, 32);
    assertThat(in.content()).as("the images as stored, where an attack may change pixels")
        .isEqualTo(new RunInputs.Content(1, 28, 28));
    assertThat(in.splits().apply(Split.TRAIN).images().shape()).containsExactly(10, 1, 32, 32);
    List<String> names = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "c" + i).toList();
    Files.write(data.resolve("classes.txt"), names);
    assertRefusesRenamedClasses(tmp, r, names);
    Path onThree = run(tmp.resolve("on-three"), three.toString());
    Checkpoints.save(Trainer.latest(onThree), network, state);
    assertThatThrownBy(() -> RunInputs.load(onThree, null, null, Split.TEST, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("three/test: 3 classes, the run's network has 10 outputs; evaluate it on data with its 10 classes");

    org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
        new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1).list()
            .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(8)
                .activation(org.nd4j.linalg.activations.Activation.RELU).build())
            .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nOut(10)
                .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
            .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutionalFlat(28, 28, 1)).build());
    net.init();
    Path zip = tmp.resolve("mine.zip");
    org.deeplearning4j.util.ModelSerializer.writeModel(net, zip.toFile(), false);
    RunInputs mine = RunInputs.ofModel(zip, data.toString(), Split.TEST, null);
    assertThat(mine.checkpoint()).isEqualTo(zip.toString());
    assertThat(mine.classifier().numClasses()).isEqualTo(10);
    assertThat(mine.data().images().shape()).as("not padded").containsExactly(4, 1, 28, 28);
    assertThat(mine.splits().apply(Split.TRAIN).size()).isEqualTo(10);
    assertThatThrownBy(() -> RunInputs.ofModel(zip, three.toString(), Split.TEST, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("three/test: 3 classes, the model " + zip + " has 10 outputs; evaluate it on data with its 10 classes");
  }

  /** Other data is the run's when it is the same directory, however it is spelled (a symbolic link too); unknown training data compares with nothing. */
  @Test
  void whetherDataIsTheRunsOwn(@TempDir Path tmp) throws Exception {
    Path a = org.irevnet.testing.TinyData.idx(tmp.resolve("a"), 10, 10);
    Path b = org.irevnet.testing.TinyData.idx(tmp.resolve("b"), 10, 10);
    Path r = run(tmp.resolve("r"), a.toString());
    assertThat(RunInputs.isRunData(r, null)).isTrue();
    assertThat(RunInputs.isRunData(r, a.resolve("../a").toString())).isTrue();
    assertThat(RunInputs.isRunData(r, b.toString())).isFalse();
    Path link = Files.createSymbolicLink(tmp.resolve("link"), a);
    Path viaLink = run(tmp.resolve("via-link"), link.toString());
    assertThat(RunInputs.isRunData(viaLink, a.toString())).as("trained through a link, evaluated on its target").isTrue();
    assertThat(RunInputs.isRunData(r, link.toString())).isTrue();
    assertThat(RunInputs.isRunData(viaLink, b.toString())).isFalse();
    Path gone = run(tmp.resolve("gone"), tmp.resolve("deleted").toString());
    assertThat(RunInputs.isRunData(gone, b.toString())).as("a run from before data was recorded").isTrue();
  }

  /**
   * A run's data is told by the test split's content that the run recorded: a copy, or the data
   * moved, is the run's, other data is not (once the run's data had moved, it replaced
   * eval-test.json), and other data's classes are still checked against the run's.
   */
  @Test
  void aRunWhoseDataMovedTellsItsDataByContent(@TempDir Path tmp) throws Exception {
    Path a = org.irevnet.testing.TinyData.idx(tmp.resolve("a"), 10, 10);
    List<String> names = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "c" + i).toList();
    Files.write(a.resolve("classes.txt"), names);
    Path r = runRecording(tmp.resolve("r"), a);
    Path copy = org.irevnet.testing.TinyData.idx(tmp.resolve("copy"), 10, 10);
    Files.write(copy.resolve("classes.txt"), names);
    assertThat(RunInputs.isRunData(r, copy.toString())).as("a copy elsewhere, the same by content").isTrue();
    Path moved = Files.move(a, tmp.resolve("moved"));
    assertThat(RunInputs.isRunData(r, moved.toString())).isTrue();
    Path other = org.irevnet.testing.TinyData.idx(tmp.resolve("other"), 10, 12);
    Files.write(other.resolve("classes.txt"), names);
    assertThat(RunInputs.isRunData(r, other.toString())).isFalse();
    Path noTest = org.irevnet.testing.TinyData.idx(tmp.resolve("no-test"), 10, 2);
    Files.delete(noTest.resolve("t10k-images-idx3-ubyte"));
    assertThat(RunInputs.isRunData(r, noTest.toString())).as("no test split to compare").isFalse();
    Path renamed = org.irevnet.testing.TinyData.idx(tmp.resolve("renamed"), 10, 4);
    List<String> others = names.stream().map(n -> n.replace('c', 'k')).toList();
    Files.write(renamed.resolve("classes.txt"), others);
    assertThatThrownBy(() -> RunInputs.inRunClasses(r, renamed.toString())
        .apply(Datasets.resolve(renamed.toString()).load(Split.TEST)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("renamed/test: classes " + others + ", but the run was trained on a with " + names
            + "; 'k0' is not one of them");
  }

  /** A run trained on {@code data}, its config.json recording the data as training does. */
  private static Path runRecording(Path dir, Path data) throws Exception {
    run(dir, data.toString());
    var identity = org.irevnet.data.DataIdentity.of(Datasets.resolve(data.toString()));
    Files.writeString(dir.resolve(Trainer.CONFIG), "{\"config\": {\"data\": \"" + data + "\"}, \"" + Trainer.DATASET
        + "\": " + Json.line(identity.toMap()) + "}");
    return dir;
  }

  /** The directory analyses would go to, only when the run or the model is there; nothing is made. */
  @Test
  void anExistingRunDirectoryIsTheRunOrTheModelsIfThere(@TempDir Path tmp) throws Exception {
    Path r = Files.createDirectories(tmp.resolve("r"));
    assertThat(options(r, null, null).existingRunDir()).isEqualTo(r);
    assertThat(options(tmp.resolve("none"), null, null).existingRunDir()).isNull();
    Path zip = Files.writeString(tmp.resolve("m.zip"), "x");
    assertThat(options(zip, null, null).existingRunDir()).as("a file is no run directory").isNull();
    assertThat(options(null, zip, "d").existingRunDir()).isEqualTo(tmp.resolve("m-analysis"));
    assertThat(options(null, tmp.resolve("gone.zip"), "d").existingRunDir()).isNull();
    assertThat(options(null, r, "d").existingRunDir()).as("a directory is no model file").isNull();
    assertThat(tmp.resolve("m-analysis")).doesNotExist();
  }

  /** Five images of shape [3, 2, 4] labelled 0..4 mod 2, read back by label. */
  private static RunInputs inputs(org.irevnet.models.Classifier classifier) {
    org.nd4j.linalg.api.ndarray.INDArray images = org.nd4j.linalg.factory.Nd4j.zeros(
        org.nd4j.linalg.api.buffer.DataType.FLOAT, 5, 3, 2, 4);
    org.irevnet.data.Dataset d = new org.irevnet.data.Dataset("five", images, new int[] {0, 1, 0, 1, 0}, List.of("a", "b"));
    return new RunInputs(classifier, "best", d, s -> d, RunInputs.Content.of(d), null, null, null);
  }

  @Test
  void theFirstImagesAndTheContentsSize() {
    RunInputs in = inputs(null);
    assertThat(in.content()).isEqualTo(new RunInputs.Content(3, 2, 4));
    assertThat(in.content().dims()).isEqualTo(24);
    org.irevnet.data.Dataset two = in.first(2);
    assertThat(two.name()).isEqualTo("five[0:2]");
    assertThat(two.labels()).containsExactly(0, 1);
    assertThat(in.first(9).labels()).as("all of a smaller split").containsExactly(0, 1, 0, 1, 0);
    assertThat(in.first(9).name()).isEqualTo("five[0:5]");
    assertThatThrownBy(() -> in.first(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--count");
  }

  /** Only the invertible model is handed out; a DL4J network is named in the refusal. */
  @Test
  void theInvertibleModelOrARefusalNamingTheNetwork() {
    org.irevnet.models.Classifier net = (org.irevnet.models.Classifier) java.lang.reflect.Proxy.newProxyInstance(
        getClass().getClassLoader(), new Class<?>[] {org.irevnet.models.Classifier.class}, (proxy, m, args) -> {
          if (m.getName().equals("summary")) return "DL4J network 'lenet'";
          throw new UnsupportedOperationException(m.getName());
        });
    assertThatThrownBy(() -> inputs(net).model()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("this needs an invertible model; DL4J network 'lenet' is not");
    org.irevnet.models.InvertibleClassifier m = org.irevnet.models.InvertibleClassifier.build(
        org.irevnet.models.Architecture.fromJson(org.irevnet.testing.TinyData.ARCH),
        org.nd4j.linalg.api.buffer.DataType.FLOAT, 1);
    assertThat(inputs(m).model()).isSameAs(m);
  }
}
