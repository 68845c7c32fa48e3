package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.irevnet.testing.CheckpointEdits;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.InFile;
import org.irevnet.testing.Damage.Outcome;
import org.irevnet.testing.TinyData;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A run's files fuzzed: a checkpoint (every file a SHA-256 of its manifest covers, so what loads is
 * the original), a checkpoint whose {@code training.json} someone edited and listed again in the
 * manifest (it reads as some state or is refused), a run's {@code config.json} (no checksum: another
 * config or a refusal naming the file) and {@code metrics.jsonl}, which {@code train --resume} cuts
 * back. See {@link Damage#read} for what each read must do.
 */
class DamagedCheckpointsTest {
  private static final Path DIR = Damage.directory("damaged-checkpoint");

  private static final InvertibleClassifier MODEL = TinyData.perturbedModel();
  private static final String CONFIG = TrainConfig.defaults().toJson();
  private static final Checkpoints.TrainingState STATE = new Checkpoints.TrainingState(42, 3, 7, 0.625, CONFIG, 12.5);
  private static final Path SAVED = saved();
  private static final List<String> FILES = List.of(Checkpoints.MANIFEST, Checkpoints.TRAINING, ModelFiles.ARCH,
      ModelFiles.WEIGHTS, Checkpoints.OPTIMIZER);

  private static Path saved() {
    try {
      Path dir = DIR.resolve("saved");
      Checkpoints.save(dir, MODEL, CheckpointsTest.optimizer(), STATE);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A fresh copy of the saved checkpoint, into which the test then writes its damaged file. */
  private static Path copy() throws IOException {
    Path dir = DIR.resolve("checkpoint");
    AtomicFiles.deleteTree(dir);
    Files.createDirectories(dir);
    for (String f : FILES) Files.copy(SAVED.resolve(f), dir.resolve(f));
    return dir;
  }

  @Provide
  Arbitrary<InFile> checkpointFiles() {
    return Arbitraries.of(FILES).flatMap(f -> (f.endsWith(".json")
        ? Damage.ofText(new String(Damage.bytes(SAVED.resolve(f)), StandardCharsets.UTF_8))
        : Damage.of(Damage.bytes(SAVED.resolve(f)), List.of())).map(d -> new InFile(f, d)));
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedCheckpointIsLoadedAsSavedOrRefused(@ForAll("checkpointFiles") InFile d) throws Exception {
    Path dir = copy();
    Outcome<Checkpoints.Loaded> o = Damage.read(dir.resolve(d.file()), d.damaged(), dir,
        f -> Checkpoints.load(dir, DataType.FLOAT), IOException.class);
    if (o.refused()) return;
    // SHA-256 covers every file but the manifest, whose damage can only leave the same digests.
    assertThat(o.value().model().params().state()).as(d.toString()).isEqualTo(MODEL.params().state());
    assertThat(o.value().optimizer()).isEqualTo(CheckpointsTest.optimizer());
    assertThat(o.value().state()).isEqualTo(STATE);
  }

  @Provide
  Arbitrary<Damaged> trainingStates() {
    return Damage.ofText(new String(Damage.bytes(SAVED.resolve(Checkpoints.TRAINING)), StandardCharsets.UTF_8));
  }

  /**
   * An edited training.json that its manifest lists again: no checksum helps; the reader refuses it
   * or reads a state a save could have written.
   */
  @Property(tries = 200, seed = "20261206")
  void anEditedTrainingStateListedInItsManifestIsReadOrRefused(@ForAll("trainingStates") Damaged d) throws Exception {
    Path dir = copy();
    Path training = dir.resolve(Checkpoints.TRAINING);
    Outcome<Checkpoints.TrainingState> o = Damage.read(training, d, dir, f -> {
      CheckpointEdits.rehash(dir, Checkpoints.TRAINING);
      return Checkpoints.load(dir, DataType.FLOAT).state();
    }, IOException.class);
    if (o.refused() || o.value().equals(STATE)) return;
    // Read as another state: one a save could have written.
    Checkpoints.TrainingState s = o.value();
    assertThat(List.of(s.step(), (long) s.epoch(), (long) s.batch())).as(d.toString()).allMatch(v -> v >= 0);
    assertThat((long) s.batch()).as(d.toString()).isLessThanOrEqualTo(s.step());
    if (s.seconds() != null) assertThat(s.seconds()).as(d.toString()).isNotNegative(); // null before the field
    assertThat(s.configJson()).isNotNull();
  }

  @Provide
  Arbitrary<Damaged> configs() {
    return Damage.ofText(CONFIG);
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedConfigIsReadOrRefusedNamingTheFile(@ForAll("configs") Damaged d) throws Exception {
    Path file = DIR.resolve("config.json");
    TrainConfig base = TrainConfig.defaults();
    Outcome<TrainConfig> o = Damage.read(file, d, file, f -> {
      TrainConfig fromFile = TrainConfig.read(f, base);
      return fromFile.validate(f, base, fromFile);
    }, IllegalArgumentException.class);
    if (o.refused()) return;
    // No checksum: a changed number is another config, which validate() has accepted.
    if (java.util.Arrays.equals(d.bytes(), CONFIG.getBytes(StandardCharsets.UTF_8))) {
      assertThat(o.value()).isEqualTo(TrainConfig.defaults());
    }
  }

  private static final String METRICS = "{\"step\":1,\"loss\":2.5}\n{\"step\":2,\"loss\":2.25}\n{\"step\":3,\"loss\":2.0}\n";

  @Provide
  Arbitrary<Damaged> metrics() {
    return Damage.ofText(METRICS);
  }

  /** What a resume keeps of a damaged metrics.jsonl: lines that still read, the rest dropped and said. */
  @Property(tries = 200, seed = "20261206")
  void aDamagedMetricsFileIsCutBackOnResume(@ForAll("metrics") Damaged d) throws Exception {
    Path run = DIR.resolve("run");
    Files.createDirectories(run);
    Path metrics = run.resolve("metrics.jsonl");
    Outcome<String> o = Damage.read(metrics, d, metrics, f -> Trainer.truncateMetrics(run, 2), IOException.class);
    if (o.refused()) return;
    for (String line : Files.readAllLines(metrics)) {
      assertThat(new String(d.bytes(), StandardCharsets.UTF_8)).as(d + ": a kept line is the file's").contains(line);
    }
  }
}
