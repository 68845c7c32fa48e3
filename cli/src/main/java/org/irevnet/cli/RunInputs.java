package org.irevnet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import org.irevnet.data.DataIdentity;
import org.irevnet.data.DataSource;
import org.irevnet.data.Dataset;
import org.irevnet.data.Datasets;
import org.irevnet.data.Split;
import org.irevnet.models.Baselines;
import org.irevnet.models.Classifier;
import org.irevnet.models.Dl4jClassifier;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.settings.Ranges;
import org.irevnet.train.Checkpoints;
import org.irevnet.train.TrainedRun;
import org.irevnet.train.Trainer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A model to analyse (a trained run's invertible model or DL4J baseline, or a user's DL4J model
 * zip) and one split of its data (the test split unless asked otherwise); {@code splits} prepares
 * any split the same way; {@code content} is the images' shape before padding (what bits/dim is
 * counted over, and where an attack may change pixels); {@code dataDir} is the data's directory,
 * absolute: the dataset's name ({@code png/test}) is only its last part, the same for two
 * directories of one name. {@code weightsSha256} is the digest of the checkpoint's weights as
 * loaded ({@link Checkpoints#weightsSha256}), which the analyses record so that a report can tell
 * results of other weights; null for a model zip. {@code otherSize} says how the images differ in
 * size from those the run was trained on, or is null ({@link #requireTrainingSize}).
 */
record RunInputs(Classifier classifier, String checkpoint, Dataset data, Function<Split, Dataset> splits,
    Content content, Path dataDir, String weightsSha256, String otherSize) {

  /** The shape of the data's images as stored, before the model's padding. */
  record Content(int channels, int height, int width) {
    static Content of(Dataset d) {
      return new Content(d.channels(), d.height(), d.width());
    }

    long dims() {
      return (long) channels * height * width;
    }
  }

  /**
   * The invertible model, for the commands that need one (invert, metamers, interpolate, the
   * nuisance probe).
   */
  InvertibleClassifier model() {
    if (classifier instanceof InvertibleClassifier m) return m;
    throw notInvertible(classifier.summary());
  }

  /** The refusal of a command that needs an invertible model, given {@code which} (it says what is not). */
  private static IllegalArgumentException notInvertible(String which) {
    return new IllegalArgumentException("this needs an invertible model; " + which
        + " is not (per-layer probes, eval and the fgsm, pgd and feature-match attacks work on it)");
  }

  /** The checkpoint of a run to load, {@code best} or {@code latest} ({@code which}), and its directory. */
  record Chosen(String which, Path dir) {}

  /**
   * The checkpoint {@code checkpoint} ({@code best}, {@code latest}, or null for best falling back
   * to latest) of {@code run}, refused in one line when the run or the checkpoint is not there.
   */
  static Chosen chosen(Path run, String checkpoint) {
    if (!Files.isDirectory(run)) {
      throw new IllegalArgumentException(run + (Files.exists(run) ? ": not a directory (--run takes a run directory)"
          : ": no such run directory"));
    }
    Path best = Trainer.best(run);
    String which = checkpoint != null ? checkpoint : TrainedRun.defaultCheckpoint(run).equals(best) ? "best" : "latest";
    Ranges.oneOf("--checkpoint", which, Choices.CHECKPOINTS);
    Path ck = which.equals("best") ? best : Trainer.latest(run);
    if (!Checkpoints.exists(ck) && Files.exists(ck, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException(ck + ": not a checkpoint (no " + Checkpoints.MANIFEST + "): damaged or incomplete");
    }
    if (!Checkpoints.exists(ck)) {
      throw new IllegalArgumentException(ck + ": no checkpoint " + (Checkpoints.exists(Trainer.latest(run))
          ? "yet (best is saved at the end of an epoch); --checkpoint latest takes " + Trainer.latest(run)
          // latest deleted by hand: "has RUN been trained?" of a trained run
          : Checkpoints.exists(best) ? "(missing; --checkpoint best takes " + best + ")"
          : "(has " + run + " been trained?)"));
    }
    return new Chosen(which, ck);
  }

  /** A run's invertible model without its data: {@code which} checkpoint, as loaded. */
  record Model(String which, Checkpoints.LoadedModel loaded) {}

  /**
   * The invertible model of {@code run} alone, for sample, whose images come from the model: it
   * loaded the run's data too, so a run whose data had moved could not be sampled (sample refuses
   * --data, and it said to pass --data).
   */
  static Model model(Path run, String checkpoint) throws IOException {
    Chosen chosen = chosen(run, checkpoint);
    if (Checkpoints.holdsNetwork(chosen.dir())) {
      throw notInvertible(chosen.dir() + " holds a DL4J network, which");
    }
    return new Model(chosen.which(), Checkpoints.loadModel(chosen.dir(), DataType.FLOAT));
  }

  /**
   * @param data dataset name or path, or null for the one in the run's {@code config.json}
   * @param checkpoint {@code best}, {@code latest}, or null for best falling back to latest
   * @param probed a DL4J network's probed layers, or null for its default ones
   */
  static RunInputs load(Path run, String data, String checkpoint, Split split, List<String> probed) throws IOException {
    Chosen chosen = chosen(run, checkpoint);
    String which = chosen.which();
    Path ck = chosen.dir();
    DataSource src = resolve(run, data);
    Function<Dataset, Dataset> inRunClasses = inRunClasses(run, data);
    if (Checkpoints.holdsNetwork(ck)) {
      // The shape before the baselines' padding, as for the invertible models: with the padded one
      // an attack's mask took in the padding, and changed pixels that no image of the data has.
      Dataset raw = src.load(split);
      Function<Split, Dataset> splits =
          s -> inRunClasses.apply(Baselines.prepare(sameSize(src.name(), raw, split, src.load(s), s)));
      Dataset d = inRunClasses.apply(Baselines.prepare(raw));
      String arch = Json.read(run.resolve(Trainer.CONFIG), "config").path("config").path("arch").asText("dl4j");
      Checkpoints.LoadedNetwork loaded = Checkpoints.loadNetwork(ck);
      Dl4jClassifier model = Dl4jClassifier.of(loaded.net(), arch, new long[] {d.channels(), d.height(), d.width()}, probed);
      checkOutputs(d, model.numClasses(), "the run's network");
      return new RunInputs(model, which, d, splits, Content.of(raw), absolute(src), loaded.weightsSha256(),
          otherSize(run, raw, d));
    }
    if (probed != null) throw new IllegalArgumentException("--probe-layers applies to DL4J networks only");
    Checkpoints.LoadedModel loaded = Checkpoints.loadModel(ck, DataType.FLOAT);
    InvertibleClassifier model = loaded.model();
    Dataset raw = inRunClasses.apply(src.load(split));
    checkOutputs(raw, model.numClasses(), "the run's model");
    Dataset d = Trainer.prepare(raw, model.architecture());
    return new RunInputs(model, which, d,
        // Relabelled before padding, as the split itself: prepare refuses a class count other than the
        // outputs, and a test set of some of the run's classes failed when probe loaded its training split.
        s -> Trainer.prepare(inRunClasses.apply(sameSize(src.name(), raw, split, src.load(s), s)), model.architecture()),
        Content.of(raw), absolute(src), loaded.weightsSha256(), otherSize(run, raw, d));
  }

  /**
   * {@code other}, a split loaded beside the command's, once it is known to hold images of one size
   * with it: each split is padded onto the model's input on its own, so a probe trained on 28x28
   * training images (probe, metamers --probe-class) was tested on 31x31 test images lying elsewhere
   * on it, without a word; train refuses such data ({@link Trainer#checkSameSize}).
   */
  private static Dataset sameSize(String data, Dataset raw, Split split, Dataset other, Split otherSplit) {
    if (otherSplit != split) {
      if (split == Split.TRAIN) Trainer.checkSameSize(data, raw, other);
      else Trainer.checkSameSize(data, other, raw);
    }
    return other;
  }

  /**
   * How {@code raw}'s images differ in height or width from those the run was trained on (its
   * {@code config.json}'s {@code dataset.image_shape}), or null: padded onto the model's input
   * ({@code padded}), they lie elsewhere on it than any image it learnt from, and each analysis ran
   * on them without a word. Null for a run from before that record, which has nothing to compare.
   */
  private static String otherSize(Path run, Dataset raw, Dataset padded) throws IOException {
    DataIdentity recorded = recordedIdentity(run);
    List<Integer> trained = recorded == null ? null : recorded.imageShape();
    if (trained == null || (trained.get(1) == raw.height() && trained.get(2) == raw.width())) return null;
    return raw.name() + ": " + raw.height() + "x" + raw.width() + " images, but " + run + " was trained on "
        + trained.get(1) + "x" + trained.get(2) + " ones (" + recorded.name() + "); zero-padded to its " + padded.height()
        + "x" + padded.width() + " input, these lie elsewhere on it than any image it learnt from";
  }

  /**
   * Refuses images of another size than the run was trained on, for the commands that score the
   * model's classes against the labels (eval, attack): an accuracy over images laid on its input as
   * none it learnt from measures that layout, not the classifier, as train refuses test images of
   * another size than its training images.
   */
  RunInputs requireTrainingSize() {
    if (otherSize != null) throw new IllegalArgumentException(otherSize + "; pad or crop them to the size it was trained on");
    return this;
  }

  /**
   * Notes on stderr that the images differ in size from those the run was trained on, for the
   * analyses that are meaningful on any image the model takes (its inverse, its representations
   * probed, its invariances: invert, probe, metamers, interpolate, export), as on a transfer set.
   */
  RunInputs noteOtherSize(String command) {
    if (otherSize != null) System.err.println("irevnet " + command + ": note: " + otherSize);
    return this;
  }

  /** A user's DL4J model zip, with the images of {@code data} as they are (no padding). */
  static RunInputs ofModel(Path zip, String data, Split split, List<String> probed) throws IOException {
    DataSource src = Datasets.resolve(data);
    Function<Split, Dataset> splits = src::load;
    Dataset d = splits.apply(split);
    Dl4jClassifier model = Dl4jClassifier.load(zip, new long[] {d.channels(), d.height(), d.width()}, probed);
    checkOutputs(d, model.numClasses(), "the model " + zip);
    return new RunInputs(model, zip.toString(), d, splits, Content.of(d), absolute(src), null, null);
  }

  private static Path absolute(DataSource src) {
    return src.dir().toAbsolutePath().normalize();
  }

  /**
   * Refuses data whose class count is not the model's outputs. Fewer classes were accepted: eval
   * then printed a 10x10 confusion matrix under 3 class names, and the outputs past them scored
   * as classes the data does not have.
   */
  private static void checkOutputs(Dataset d, int outputs, String model) {
    if (d.classNames().size() != outputs) {
      throw new IllegalArgumentException(d.name() + ": " + d.classNames().size() + " classes, " + model + " has "
          + outputs + " outputs; evaluate it on data with its " + outputs + " classes");
    }
  }

  /**
   * Labels other data ({@code data} not null) in the classes of the data the run was trained on,
   * matched by name: the model's outputs mean those classes, and scoring "a" as class 0 of
   * Fashion-MNIST gives a number that means nothing, so a name the run does not have is refused.
   * Data with some of the run's classes (a test set of two of them) is relabelled into the run's;
   * it was refused. Names are compared in Unicode NFC: class folders copied from macOS spell "Ä"
   * decomposed (NFD), which looked the same in the message but did not compare equal, and sorted
   * into another label order. The run's classes are those of its data where that is still found,
   * else those its {@code config.json} recorded ({@link DataIdentity}). Unknown names (IDX files
   * without any, or a run from before they were recorded whose data is gone) leave nothing to
   * compare: the data is taken as it is.
   */
  static Function<Dataset, Dataset> inRunClasses(Path run, String data) throws IOException {
    if (data == null) return d -> d;
    DataSource trained = runSource(run);
    DataIdentity recorded = trained == null ? recordedIdentity(run) : null;
    List<String> names = trained != null ? trained.classNames() : recorded == null ? null : recorded.classes();
    if (names == null) return d -> d;
    String trainedName = trained != null ? trained.name() : recorded.name();
    List<String> runNfc = names.stream().map(Datasets::nfc).toList();
    // IDX files without a classes.txt are numbered: "'0' is not one of them" did not say that the
    // data names no classes (a copy of the run's data without its classes.txt), nor how to name them.
    DataSource given = Datasets.resolve(data);
    String unnamed = given.classNames() != null ? "" : " (" + given.name() + " names no classes, so they are numbered by"
        + " label: a classes.txt in it, one name a line in label order, names them)";
    return d -> {
      if (d.classNames().equals(names)) return d;
      int[] to = new int[d.numClasses()];
      for (int k = 0; k < to.length; k++) {
        to[k] = runNfc.indexOf(Datasets.nfc(d.classNames().get(k)));
        if (to[k] < 0) {
          throw new IllegalArgumentException(d.name() + ": classes " + d.classNames() + ", but the run was trained on "
              + trainedName + " with " + names + "; '" + d.classNames().get(k) + "' is not one of them" + unnamed);
        }
      }
      int[] labels = new int[d.size()];
      for (int i = 0; i < labels.length; i++) labels[i] = to[d.labels()[i]];
      return new Dataset(d.name(), d.images(), labels, names);
    };
  }

  /** The data the run was trained on, or null when it cannot be found from here. */
  private static DataSource runSource(Path run) throws IOException {
    try {
      return Datasets.resolve(dataName(run, null));
    } catch (IllegalArgumentException notHere) {
      return null;
    }
  }

  /** What the run's {@code config.json} records of its data; null for a run from before that was recorded. */
  private static DataIdentity recordedIdentity(Path run) throws IOException {
    Path cfg = run.resolve(Trainer.CONFIG);
    return Files.isRegularFile(cfg) ? DataIdentity.read(Json.read(cfg, "config").path(Trainer.DATASET)) : null;
  }

  /**
   * Whether {@code data} (null: the run's own) is the data the run was trained on, as far as can be
   * told here: the same directory (through links), or the same test split by content as the run
   * recorded ({@link DataIdentity}): a copy elsewhere, or the data moved, is the run's; other data
   * is not, also once the run's own has gone (it was, and replaced {@code eval-test.json}). A run
   * from before that record tells by directory, and once its data is gone compares with nothing:
   * the data is taken as its own.
   */
  static boolean isRunData(Path run, String data) throws IOException {
    if (data == null) return true;
    DataSource trained = runSource(run);
    if (trained != null && Datasets.sameDirectory(absolute(trained), absolute(Datasets.resolve(data)))) return true;
    DataIdentity recorded = recordedIdentity(run);
    if (recorded == null) return trained == null;
    return recorded.sameData(DataIdentity.of(Datasets.resolve(data)));
  }

  /**
   * The data to analyse: {@code data}, or the run's own. The run's own that is no longer where it
   * was trained says so and how to go on: "DIR: no such directory" alone did not tell that it was
   * the run's data, moved or deleted, nor that --data takes it from its new place.
   */
  static DataSource resolve(Path run, String data) throws IOException {
    String name = dataName(run, data);
    try {
      return Datasets.resolve(name);
    } catch (IllegalArgumentException e) {
      if (data != null) throw e;
      throw new IllegalArgumentException(e.getMessage() + " (the data " + run + " was trained on, moved or deleted"
          + " since: pass --data with its new place)", e);
    }
  }

  /** {@code data}, or the dataset named in the run's {@code config.json} when it is null. */
  static String dataName(Path run, String data) throws IOException {
    if (data != null) return data;
    Path cfg = run.resolve(Trainer.CONFIG);
    String name = TrainedRun.recordedData(run);
    if (name == null) throw new IllegalArgumentException(cfg + ": not found; pass --data");
    if (name.isEmpty()) throw new IllegalArgumentException(cfg + ": no config.data; pass --data");
    return name;
  }

  /** The first {@code count} images of the split (fewer if the split is smaller). */
  Dataset first(int count) {
    CommonOptions.positive("--count", count);
    int n = Math.min(count, data.size());
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) idx[i] = i;
    return data.subset(data.name() + "[0:" + n + "]", idx);
  }
}
