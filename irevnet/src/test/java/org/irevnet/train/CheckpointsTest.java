package org.irevnet.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.irevnet.models.Architecture;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.irevnet.testing.CheckpointEdits;
import org.irevnet.testing.TinyData;
import org.irevnet.testing.TinyNetworks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checkpoints on their own, without a training run: what comes back from a save, what a save
 * interrupted at each of its renames leaves for the next load and the next save, and what the
 * manifest refuses.
 */
class CheckpointsTest {
  static final Checkpoints.TrainingState STATE = new Checkpoints.TrainingState(42, 3, 7, 0.625, "{\"lr\":0.1}", 12.5);
  /** The state a later save writes over {@link #STATE}. */
  static final Checkpoints.TrainingState NEXT = new Checkpoints.TrainingState(43, 3, 8, 0.75, "{}", null);

  static Map<String, INDArray> optimizer() {
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("adam.moments", Nd4j.createFromArray(0.5f, -1.25f, 3f, 1e-3f).reshape(1, 4));
    m.put("adam.iteration", Nd4j.scalar(DataType.LONG, 42).reshape(1));
    return m;
  }

  /**
   * A state edited and listed again in the manifest (which vouches for bytes, whoever listed them)
   * is refused where no save writes it: a step of -1 resumed "after step -1" at a learning rate of
   * 0 (found by DamagedCheckpointsTest and at the command line).
   */
  @Test
  void aStateNoSaveWritesIsRefused(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("ck");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    String saved = Files.readString(dir.resolve(Checkpoints.TRAINING));
    Path file = dir.resolve(Checkpoints.TRAINING);
    Map<String, String> refusals = Map.of(
        "\"step\" : 42", "step, epoch and batch must be >= 0, got -1, 3, 7",
        "\"batch\" : 7", "batch 99 of its epoch is past step 42, the steps of all epochs",
        "\"seconds\" : 12.5", "seconds must be a finite time >= 0, got -1.0");
    Map<String, String> edits = Map.of("\"step\" : 42", "\"step\" : -1", "\"batch\" : 7",
        "\"batch\" : 99", "\"seconds\" : 12.5", "\"seconds\" : -1");
    for (var e : edits.entrySet()) {
      assertThat(saved).contains(e.getKey());
      CheckpointEdits.rewrite(dir, Checkpoints.TRAINING, saved.replace(e.getKey(), e.getValue()));
      assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).as(e.getValue()).isInstanceOf(IOException.class)
          .hasMessage(file + ": " + refusals.get(e.getKey()));
    }
    // The best score is any number: -Infinity before the first validation, minus bits per dimension in an MLE run.
    CheckpointEdits.rewrite(dir, Checkpoints.TRAINING, saved.replace("0.625", "-9.5"));
    assertThat(Checkpoints.load(dir, DataType.FLOAT).state().bestAccuracy()).isEqualTo(-9.5);
  }

  @Test
  void aCheckpointComesBackAsSavedWithOrWithoutObjectiveState(@TempDir Path tmp) throws Exception {
    InvertibleClassifier m = TinyData.perturbedModel();
    Map<String, INDArray> objective = Map.of("prior.beta", Nd4j.createFromArray(0.25, -0.5).reshape(1, 2));
    Path withObjective = tmp.resolve("a"), without = tmp.resolve("b");
    Checkpoints.save(withObjective, m, optimizer(), STATE, objective);
    Checkpoints.save(without, m, optimizer(), STATE);

    for (Path dir : new Path[] {withObjective, without}) {
      Checkpoints.Loaded c = Checkpoints.load(dir, DataType.FLOAT);
      assertThat(c.model().params().state()).as(dir.toString()).isEqualTo(m.params().state());
      assertThat(c.optimizer()).isEqualTo(optimizer());
      assertThat(c.state()).isEqualTo(STATE);
      Checkpoints.LoadedModel alone = Checkpoints.loadModel(dir, DataType.FLOAT);
      assertThat(alone.model().params().state()).as("the model alone").isEqualTo(m.params().state());
      assertThat(alone.weightsSha256()).isEqualTo(c.weightsSha256());
      assertThat(Checkpoints.trainingState(dir)).isEqualTo(STATE);
      assertThat(Checkpoints.exists(dir)).isTrue();
      assertThat(Checkpoints.holdsNetwork(dir)).isFalse();
    }
    assertThat(Checkpoints.load(withObjective, DataType.FLOAT).objective()).isEqualTo(objective);
    assertThat(Checkpoints.load(without, DataType.FLOAT).objective()).isEmpty();
    assertThat(without.resolve(Checkpoints.OBJECTIVE)).doesNotExist();
    assertThat(Checkpoints.exists(tmp.resolve("never-saved"))).isFalse();
  }

  /** The manifest holds each file's SHA-256, computed here independently of the checkpoint code. */
  @Test
  void theManifestListsEveryFileWithItsSha256(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("c");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE, Map.of("x", Nd4j.ones(DataType.FLOAT, 2)));
    Map<?, ?> digests = (Map<?, ?>) new com.fasterxml.jackson.databind.ObjectMapper()
        .readValue(dir.resolve(Checkpoints.MANIFEST).toFile(), Map.class).get("sha256");
    Map<String, String> expected = new HashMap<>();
    for (String f : new String[] {ModelFiles.ARCH, ModelFiles.WEIGHTS, Checkpoints.OPTIMIZER, Checkpoints.TRAINING,
        Checkpoints.OBJECTIVE}) {
      expected.put(f, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(dir.resolve(f)))));
    }
    assertThat(digests).isEqualTo(expected);
  }

  /**
   * The weights' digest a load verified and the one the manifest lists are weights.npz's SHA-256
   * (computed here); another model's weights give another, and the previous version's mid-save.
   */
  @Test
  void theWeightsDigestIsTheWeightsFilesSha256(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
        .digest(Files.readAllBytes(dir.resolve(ModelFiles.WEIGHTS))));
    assertThat(Checkpoints.load(dir, DataType.FLOAT).weightsSha256()).isEqualTo(sha);
    assertThat(Checkpoints.weightsSha256(dir)).isEqualTo(sha);

    Checkpoints.save(dir, InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH), DataType.FLOAT, 1), optimizer(), STATE);
    assertThat(Checkpoints.weightsSha256(dir)).isNotEqualTo(sha).isEqualTo(Checkpoints.load(dir, DataType.FLOAT)
        .weightsSha256());
    String second = Checkpoints.weightsSha256(dir);
    Files.move(dir, tmp.resolve(".latest.old"));
    assertThat(Checkpoints.weightsSha256(dir)).as("the previous version, mid-save").isEqualTo(second);
    assertThat(Checkpoints.weightsSha256(tmp.resolve("never-saved"))).isNull();
  }

  @Test
  void aModifiedOrMissingFileIsRefusedByName(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("c");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE, Map.of("x", Nd4j.ones(DataType.FLOAT, 2)));
    Path opt = dir.resolve(Checkpoints.OPTIMIZER);
    byte[] bytes = Files.readAllBytes(opt);
    bytes[bytes.length / 2] ^= 1;
    Files.write(opt, bytes);
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(dir + ": optimizer.npz does not match its SHA-256 in manifest.json (corrupt or modified checkpoint)");
    assertThatThrownBy(() -> Checkpoints.loadModel(dir, DataType.FLOAT)).as("the model alone, still all files verified")
        .hasMessage(dir + ": optimizer.npz does not match its SHA-256 in manifest.json (corrupt or modified checkpoint)");

    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE, Map.of("x", Nd4j.ones(DataType.FLOAT, 2)));
    Files.delete(dir.resolve(Checkpoints.OBJECTIVE));
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).hasMessage(dir + ": objective.npz is missing");

    // A manifest that leaves a file out vouches for nothing about it; one naming other files
    // has them read wherever they are.
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    Path manifest = dir.resolve(Checkpoints.MANIFEST);
    String listed = Files.readString(manifest);
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var tree = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(listed);
    ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("sha256")).remove("weights.npz");
    Files.writeString(manifest, json.writeValueAsString(tree));
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(dir + ": weights.npz is not in manifest.json (corrupt or modified checkpoint)");
    Path outside = Files.writeString(tmp.resolve("outside.txt"), "x");
    tree = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(listed);
    ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("sha256")).put("../outside.txt", Checkpoints.sha256(outside));
    Files.writeString(manifest, json.writeValueAsString(tree));
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(manifest + ": lists ../outside.txt, which is no checkpoint file");
    Files.writeString(manifest, listed);
    assertThat(Checkpoints.load(dir, DataType.FLOAT).state()).isEqualTo(STATE);
  }

  /**
   * A training.json that does not read (its manifest kept right, so the digests pass) is refused in
   * one line naming it: Jackson named the file on a later line, which a command's error leaves out.
   */
  @Test
  void aTrainingStateThatDoesNotReadIsRefusedNamingItsFile(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("c");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    Path file = dir.resolve(Checkpoints.TRAINING);
    CheckpointEdits.rewrite(dir, Checkpoints.TRAINING, "{\"step\": ");
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).isInstanceOf(IOException.class)
        .hasMessage(file + ": malformed training state JSON at line 1, column 10: Unexpected end-of-input within/between"
            + " Object entries");
    CheckpointEdits.rewrite(dir, Checkpoints.TRAINING, "{\"step\": \"x\"}");
    assertThatThrownBy(() -> Checkpoints.trainingState(dir)).isInstanceOf(IOException.class)
        .hasMessage(file + ": key 'step' must be an integer, got \"x\"");
  }

  /**
   * A save killed between its two renames leaves the checkpoint only under its previous name:
   * it still loads from there, and the next save puts the new one in place and drops the old.
   */
  @Test
  void aSaveKilledBetweenItsRenamesLeavesACheckpointTheNextSaveReplaces(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest"), old = tmp.resolve(".latest.old");
    InvertibleClassifier m = TinyData.perturbedModel();
    Checkpoints.save(dir, m, optimizer(), STATE);
    Files.move(dir, old);

    assertThat(Checkpoints.exists(dir)).isTrue();
    assertThat(Checkpoints.trainingState(dir)).isEqualTo(STATE);
    assertThat(Checkpoints.load(dir, DataType.FLOAT).model().params().state()).isEqualTo(m.params().state());
    // An error there says what the hidden directory is, which its path alone did not.
    String training = Files.readString(old.resolve(Checkpoints.TRAINING));
    CheckpointEdits.rewrite(old, Checkpoints.TRAINING, "{\"step\": ");
    String previous = " (" + old + " is the previous version of " + dir + ", which is missing: a save of it was interrupted)";
    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT)).hasMessageStartingWith(
        old.resolve(Checkpoints.TRAINING) + ": malformed training state JSON").hasMessageEndingWith(previous);
    assertThatThrownBy(() -> Checkpoints.trainingState(dir)).hasMessageEndingWith(previous);
    CheckpointEdits.rewrite(old, Checkpoints.TRAINING, training);

    Checkpoints.save(dir, m, optimizer(), NEXT);
    assertThat(Checkpoints.load(dir, DataType.FLOAT).state()).isEqualTo(NEXT);
    assertThat(old).doesNotExist();
  }

  /**
   * A load during a save of the same checkpoint (an analysis of a run being trained) reads it again:
   * its files came from two checkpoints, refused as "corrupt or modified", or loaded with the digest
   * of the other's weights. A checkpoint replaced at every read is refused saying so.
   */
  @Test
  void aCheckpointReplacedWhileReadIsReadAgain(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest");
    InvertibleClassifier first = TinyData.perturbedModel();
    InvertibleClassifier second = InvertibleClassifier.build(Architecture.fromJson(TinyData.ARCH), DataType.FLOAT, 1);
    Checkpoints.save(dir, first, optimizer(), STATE);
    java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
    // The manifest verified, then the training process saves the next checkpoint, then the rest is read.
    Checkpoints.Loaded l = Checkpoints.fromComplete(dir, complete -> {
      String weights = Checkpoints.verify(complete);
      if (reads.incrementAndGet() == 1) Checkpoints.save(dir, second, optimizer(), NEXT);
      Checkpoints.Loaded all = Checkpoints.load(complete, DataType.FLOAT);
      return new Checkpoints.Loaded(all.model(), all.optimizer(), all.state(), all.objective(), weights);
    });
    assertThat(reads).hasValue(2);
    assertThat(l.state()).isEqualTo(NEXT);
    assertThat(l.weightsSha256()).isEqualTo(Checkpoints.weightsSha256(dir));
    assertThat(l.model().params().state()).isEqualTo(second.params().state());

    // A read that fails because of the save is made again too.
    reads.set(0);
    Checkpoints.TrainingState again = Checkpoints.fromComplete(dir, complete -> {
      if (reads.incrementAndGet() == 1) {
        Checkpoints.save(dir, first, optimizer(), STATE);
        throw new IOException(complete + ": weights.npz does not match its SHA-256 in manifest.json");
      }
      return Checkpoints.trainingState(complete);
    });
    assertThat(again).isEqualTo(STATE);

    // Replaced at every read: refused, saying why.
    java.util.concurrent.atomic.AtomicLong step = new java.util.concurrent.atomic.AtomicLong(100);
    Checkpoints.Reader<Object> savingEachTime = complete -> {
      Checkpoints.save(dir, first, optimizer(), new Checkpoints.TrainingState(step.incrementAndGet(), 1, 1, 0, "{}", null));
      return null;
    };
    assertThatThrownBy(() -> Checkpoints.fromComplete(dir, savingEachTime)).hasMessage(dir + ": replaced by a new save each of the 5 times it was read (is the run being trained?): read it"
        + " once training stops");
    // A checkpoint damaged, not replaced, is refused at once.
    reads.set(0);
    Checkpoints.Reader<Object> damaged = complete -> {
      reads.incrementAndGet();
      throw new IOException("damaged");
    };
    assertThatThrownBy(() -> Checkpoints.fromComplete(dir, damaged)).hasMessage("damaged");
    assertThat(reads).hasValue(1);
  }

  /** Killed after both renames, before the previous version went: both are there. */
  @Test
  void aSaveKilledBeforeDroppingThePreviousVersionDoesNotStopTheNextOne(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest"), old = tmp.resolve(".latest.old");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    Files.createDirectory(old);
    try (var s = Files.list(dir)) {
      for (Path f : s.toList()) Files.copy(f, old.resolve(f.getFileName()));
    }

    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), NEXT);
    assertThat(Checkpoints.trainingState(dir)).isEqualTo(NEXT);
    assertThat(old).doesNotExist();
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactly(dir);
    }
  }

  /**
   * A save replaces a checkpoint and nothing else: a file or a directory of the user's at the
   * target stays as it was (the save used to move it aside and delete it, as a previous version).
   */
  @Test
  void aSaveOntoSomethingThatIsNoCheckpointIsRefusedAndLeavesIt(@TempDir Path tmp) throws Exception {
    Path file = tmp.resolve("notes.txt"), dir = tmp.resolve("photos");
    Files.writeString(file, "mine");
    Files.createDirectory(dir);
    Files.writeString(dir.resolve("a.png"), "also mine");
    for (Path target : new Path[] {file, dir}) {
      assertThatThrownBy(() -> Checkpoints.save(target, TinyData.perturbedModel(), optimizer(), STATE))
          .isInstanceOf(java.io.IOException.class)
          .hasMessage(target + " exists and is not a checkpoint: not replacing it");
    }
    assertThat(file).hasContent("mine");
    assertThat(dir.resolve("a.png")).hasContent("also mine");
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactlyInAnyOrder(file, dir);
    }
  }

  /**
   * A save replaces the checkpoint directory whole, so a file of the user's inside it (or inside the
   * previous version a stopped save keeps) stops the save, named, with the checkpoint and the file
   * kept; before this a save deleted it without a word.
   */
  @Test
  void aSaveOntoACheckpointHoldingAFileOfTheUsersIsRefusedAndKeepsIt(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("best");
    InvertibleClassifier m = TinyData.perturbedModel();
    Checkpoints.save(dir, m, optimizer(), STATE);
    String digest = Checkpoints.weightsSha256(dir);
    for (Path notes : new Path[] {dir.resolve("notes.txt"), tmp.resolve(".best.old").resolve("notes.txt")}) {
      Files.createDirectories(notes.getParent());
      Files.writeString(notes, "mine");
      assertThatThrownBy(() -> Checkpoints.save(dir, m, optimizer(), STATE)).isInstanceOf(java.io.IOException.class)
          .hasMessage(notes + ": not written by training; not deleting it (move it, or train into another directory)");
      assertThat(notes).hasContent("mine");
      assertThat(Checkpoints.weightsSha256(dir)).isEqualTo(digest);
      Files.delete(notes);
    }
    Files.createDirectory(dir.resolve("figures"));
    assertThatThrownBy(() -> Checkpoints.save(dir, m, optimizer(), STATE)).hasMessageStartingWith(dir.resolve("figures")
        + ": not written by training");
    Files.delete(dir.resolve("figures"));
    Checkpoints.save(dir, m, optimizer(), STATE); // the checkpoint's own files alone: replaced
    assertThat(Checkpoints.weightsSha256(dir)).isEqualTo(digest);
  }

  /** A checkpoint from before the training time was recorded reads with none (a resume counts from there). */
  @Test
  void aTrainingStateWithoutSecondsReadsAsNotRecorded(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest");
    Checkpoints.save(dir, TinyData.perturbedModel(), optimizer(), STATE);
    assertThat(Checkpoints.trainingState(dir).seconds()).isEqualTo(12.5);
    Path training = dir.resolve(Checkpoints.TRAINING);
    Files.writeString(training, Files.readString(training).replaceAll(",\\s*\"seconds\"\\s*:\\s*12.5", ""));
    assertThat(Files.readString(training)).doesNotContain("seconds");
    assertThat(Checkpoints.trainingState(dir).seconds()).isNull();
    assertThat(Checkpoints.trainingState(dir).secondsOrZero()).isZero();
  }

  /** Whatever fails while the files are written, the previous checkpoint stays and nothing is left beside it. */
  @Test
  void aFailedSaveKeepsThePreviousCheckpointAndLeavesNoTemporary(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("latest");
    InvertibleClassifier m = TinyData.perturbedModel();
    Checkpoints.save(dir, m, optimizer(), STATE);
    Map<String, INDArray> broken = new HashMap<>(optimizer());
    broken.put("adam.moments", null);
    assertThatThrownBy(() -> Checkpoints.save(dir, m, broken, NEXT))
        .isInstanceOf(NullPointerException.class);
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactly(dir);
    }
    assertThat(Checkpoints.load(dir, DataType.FLOAT).state()).isEqualTo(STATE);
  }

  /**
   * A full disk mid-save (a stream's "No space left on device", under a file of the temporary
   * checkpoint) is named after the checkpoint, not after nothing or a temporary's random name; the
   * previous checkpoint stays loadable, with nothing beside it.
   */
  @Test
  void aSaveThatRunsOutOfSpaceNamesTheCheckpointAndKeepsThePreviousOne(@TempDir Path tmp) throws Exception {
    assertASecondSaveFailsKeepingTheFirst(tmp, partial -> org.irevnet.io.AtomicFiles.write(
        partial.resolve(Checkpoints.OPTIMIZER), out -> {
          out.write(new byte[1000]);
          throw new IOException("No space left on device");
        }), "No space left on device");
  }

  /**
   * A stopped process's shutdown hook deletes the temporaries of unfinished writes while the
   * training thread goes on saving. Here the hook runs between two of the checkpoint's files, and
   * the writer, finding its directory gone, makes it again (it could also have found it half
   * emptied). Renamed into place, that directory replaced the complete checkpoint with one whose
   * files were missing (CI: "checkpoints/latest: model.json is missing" after a SIGTERM).
   */
  @Test
  void aSaveWhoseTemporaryAStopTookKeepsThePreviousCheckpoint(@TempDir Path tmp) throws Exception {
    assertASecondSaveFailsKeepingTheFirst(tmp, partial -> {
      org.irevnet.io.AtomicFiles.deleteUnfinished();
      Files.createDirectories(partial);
      org.irevnet.io.Npz.write(partial.resolve(Checkpoints.OPTIMIZER), optimizer());
    }, "not replaced: the process is being stopped");
  }

  /**
   * Saves a checkpoint at {@link #STATE}, then a second whose writer, after the model files, runs
   * {@code rest}: the second must fail naming the checkpoint and {@code reason}, and leave the first
   * alone in {@code tmp}, loadable.
   */
  private static void assertASecondSaveFailsKeepingTheFirst(Path tmp, Checkpoints.FileWriter rest, String reason)
      throws IOException {
    Path dir = tmp.resolve("latest");
    InvertibleClassifier m = TinyData.perturbedModel();
    Checkpoints.save(dir, m, optimizer(), STATE);
    assertThatThrownBy(() -> Checkpoints.write(dir, NEXT, partial -> {
      ModelFiles.save(partial, m);
      rest.write(partial);
    })).isInstanceOf(java.nio.file.FileSystemException.class).hasMessage(dir + ": " + reason);
    try (var s = Files.list(tmp)) {
      assertThat(s.toList()).containsExactly(dir);
    }
    Checkpoints.Loaded c = Checkpoints.load(dir, DataType.FLOAT);
    assertThat(c.state()).isEqualTo(STATE);
    assertThat(c.model().params().state()).isEqualTo(m.params().state());
  }

  /**
   * The same network saved again later has the same weights digest: DL4J dates model.zip's
   * entries by the clock (2-second resolution), so two saves 2.1 s apart differed, and the report
   * took analyses of a retrained, identical network for analyses of other weights.
   */
  @Test
  void theSameNetworkSavedLaterHasTheSameWeightsDigest(@TempDir Path tmp) throws Exception {
    var net = TinyNetworks.graph(DataType.FLOAT, 5);
    TinyNetworks.train(net, 3, 5);
    Checkpoints.save(tmp.resolve("first"), net, STATE);
    Thread.sleep(2100);
    Checkpoints.save(tmp.resolve("again"), net, STATE);
    assertThat(Checkpoints.weightsSha256(tmp.resolve("again"))).isNotNull()
        .isEqualTo(Checkpoints.weightsSha256(tmp.resolve("first")));
    try (var zip = new java.util.zip.ZipFile(tmp.resolve("again").resolve(Checkpoints.NETWORK).toFile())) {
      assertThat(zip.stream().map(java.util.zip.ZipEntry::getTimeLocal)).containsOnly(org.irevnet.io.StableZip.ENTRY_TIME);
    }
    TinyNetworks.train(net, 3, 6);
    Checkpoints.save(tmp.resolve("trained"), net, STATE);
    assertThat(Checkpoints.weightsSha256(tmp.resolve("trained"))).as("other weights")
        .isNotEqualTo(Checkpoints.weightsSha256(tmp.resolve("first")));
  }

  @Test
  void aNetworkCheckpointLoadsOnlyAsANetwork(@TempDir Path tmp) throws Exception {
    var net = TinyNetworks.graph(DataType.FLOAT, 5);
    TinyNetworks.train(net, 3, 5);
    Path dir = tmp.resolve("net"), model = tmp.resolve("model");
    Checkpoints.save(dir, net, STATE);
    Checkpoints.save(model, TinyData.perturbedModel(), optimizer(), STATE);

    assertThat(Checkpoints.holdsNetwork(dir)).isTrue();
    Checkpoints.LoadedNetwork back = Checkpoints.loadNetwork(dir);
    assertThat(back.net().params()).isEqualTo(net.params());
    assertThat(back.net().getUpdater().getStateViewArray()).isEqualTo(net.getUpdater().getStateViewArray());
    assertThat(back.state()).isEqualTo(STATE);

    assertThatThrownBy(() -> Checkpoints.load(dir, DataType.FLOAT))
        .hasMessage(dir + ": holds a DL4J network (model.zip), not an invertible model");
    assertThatThrownBy(() -> Checkpoints.loadModel(dir, DataType.FLOAT))
        .hasMessage(dir + ": holds a DL4J network (model.zip), not an invertible model");
    assertThatThrownBy(() -> Checkpoints.loadNetwork(model))
        .hasMessage(model + ": no model.zip (not a DL4J checkpoint)");

    Path zip = dir.resolve(Checkpoints.NETWORK);
    byte[] bytes = Files.readAllBytes(zip);
    bytes[bytes.length / 2] ^= 1;
    Files.write(zip, bytes);
    assertThatThrownBy(() -> Checkpoints.loadNetwork(dir)).hasMessageContaining("model.zip does not match its SHA-256");

    // A zip its manifest vouches for that holds no network: an IOException naming it (exit code 2).
    try (var out = new java.util.zip.ZipOutputStream(Files.newOutputStream(zip))) {
      out.putNextEntry(new java.util.zip.ZipEntry("hello.txt"));
      out.write(1);
    }
    CheckpointEdits.rehash(dir, Checkpoints.NETWORK);
    assertThatThrownBy(() -> Checkpoints.loadNetwork(dir)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(zip + ": not a DL4J network saved by ModelSerializer (");
  }

  /** A baseline checkpoint whose weights diverged is refused naming the parameter, as weights.npz is. */
  @Test
  void aNetworkCheckpointWithANaNWeightIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
    var net = TinyNetworks.graph(DataType.FLOAT, 5);
    TinyNetworks.train(net, 3, 5);
    String layer = net.getLayer(0).conf().getLayer().getLayerName();
    net.getLayer(0).paramTable().values().iterator().next().putScalar(0, Float.NaN);
    String param = net.getLayer(0).paramTable().keySet().iterator().next();
    Path dir = tmp.resolve("net");
    Checkpoints.save(dir, net, STATE);
    assertThatThrownBy(() -> Checkpoints.loadNetwork(dir)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(dir.resolve(Checkpoints.NETWORK) + ": layer '" + layer + "' parameter " + param
            + " has 1 NaN or infinite value(s)");
  }
}
