package org.irevnet.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.JsonErrors;
import org.irevnet.io.Npz;
import org.irevnet.io.RunLock;
import org.irevnet.io.StableZip;
import org.irevnet.models.Dl4jClassifier;
import org.irevnet.models.InvertibleClassifier;
import org.irevnet.models.ModelFiles;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Training checkpoints: a directory with {@code model.json}, {@code weights.npz}, {@code
 * optimizer.npz} (a DL4J baseline: {@code model.zip} instead of these three), {@code training.json}, for objectives with state of their own (iCE: adversaries,
 * prior and their Adam states) {@code objective.npz}, and a {@code manifest.json} of SHA-256
 * digests, verified on load. A checkpoint is built under a temporary name and renamed into place, so an interrupted
 * save leaves the previous checkpoint intact.
 */
public final class Checkpoints {
  public static final String MANIFEST = "manifest.json";
  public static final String OPTIMIZER = "optimizer.npz";
  public static final String TRAINING = "training.json";
  public static final String OBJECTIVE = "objective.npz";
  /** A DL4J network (baselines), as written by ModelSerializer. */
  public static final String NETWORK = "model.zip";
  /** Every file a checkpoint can hold, each listed in its manifest when present. */
  private static final List<String> FILES = List.of(ModelFiles.ARCH, ModelFiles.WEIGHTS, NETWORK, OPTIMIZER, TRAINING,
      OBJECTIVE);
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private Checkpoints() {}

  /**
   * Where training stands: the next step to run and the data position it starts at; {@code
   * seconds}, the training time up to here summed over the sessions that trained it (null in
   * checkpoints from before the field: a resumed run's time then counts from the resume).
   */
  public record TrainingState(long step, int epoch, int batch, double bestAccuracy, String configJson, Double seconds) {
    /** {@link #seconds}, 0 where not recorded. */
    public double secondsOrZero() {
      return seconds == null ? 0 : seconds;
    }
  }

  /**
   * A verified, loaded checkpoint; {@code objective} is empty when the checkpoint has none;
   * {@code weightsSha256} is its weights' digest ({@link #weightsSha256(Path)}) as verified.
   */
  public record Loaded(InvertibleClassifier model, Map<String, INDArray> optimizer, TrainingState state,
      Map<String, INDArray> objective, String weightsSha256) {}

  public static void save(Path target, InvertibleClassifier model, Map<String, INDArray> optimizer,
      TrainingState state) throws IOException {
    save(target, model, optimizer, state, Map.of());
  }

  /** @param objective the objective's own state, written as {@code objective.npz} unless empty */
  public static void save(Path target, InvertibleClassifier model, Map<String, INDArray> optimizer,
      TrainingState state, Map<String, INDArray> objective) throws IOException {
    write(target, state, tmp -> {
      ModelFiles.save(tmp, model);
      Npz.write(tmp.resolve(OPTIMIZER), optimizer);
      if (!objective.isEmpty()) Npz.write(tmp.resolve(OBJECTIVE), objective);
    });
  }

  /**
   * A DL4J network's checkpoint: {@code model.zip} written by DL4J's {@link ModelSerializer}
   * (configuration, weights and updater state), with the same {@code training.json} and manifest.
   */
  public static void save(Path target, ComputationGraph net, TrainingState state) throws IOException {
    write(target, state, tmp -> {
      ModelSerializer.writeModel(net, tmp.resolve(NETWORK).toFile(), true);
      // Dated by the clock, the same network gave another digest a second later, and the report
      // took analyses of a retrained, identical network for analyses of other weights.
      StableZip.rewrite(tmp.resolve(NETWORK));
    });
  }

  interface FileWriter {
    void write(Path dir) throws IOException;
  }

  /**
   * Runs {@code load} of a checkpoint's {@code state}, its refusal prefixed by {@code where} (a file,
   * a part of one): the manifest vouches for the bytes, not for what they hold, and "optimizer state does
   * not match this model" of an {@code objective.npz} pointed at the wrong file, or at none.
   */
  static <T> void naming(String where, java.util.function.Consumer<T> load, T state) {
    try {
      load.accept(state);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(where + e.getMessage(), e);
    }
  }

  /**
   * Refuses, as a save would, a {@code target} that something other than a checkpoint holds (a
   * checkpoint directory without its manifest: damaged, or copied in part): what is at the target
   * goes once the new checkpoint is in place, so only ever a checkpoint.
   */
  public static void refuseToReplace(Path target) throws IOException {
    if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target.resolve(MANIFEST))) {
      throw new IOException(target + " exists and is not a checkpoint: not replacing it");
    }
  }

  /**
   * Builds the checkpoint in a temporary directory, then renames it into place. A write that fails
   * is named after the checkpoint: a full disk said only "No space left on device", or named a
   * file in the temporary directory (package-private: tests give a writer that fails).
   */
  static void write(Path target, TrainingState state, FileWriter modelFiles) throws IOException {
    refuseToReplace(target);
    refuseForeignFiles(target);
    // A run killed while saving leaves its temporary directory (tens of MiB) behind: the next save
    // of the same checkpoint removes it. One process trains a run at a time (RunLock).
    AtomicFiles.deleteTemporarySiblings(target);
    Path tmp = AtomicFiles.createTemporary(target, true);
    try {
      modelFiles.write(tmp);
      Files.writeString(tmp.resolve(TRAINING), JSON.writeValueAsString(state));
      Map<String, String> digests = new TreeMap<>();
      for (String f : FILES) {
        if (Files.exists(tmp.resolve(f))) digests.put(f, sha256(tmp.resolve(f)));
      }
      Files.writeString(tmp.resolve(MANIFEST), JSON.writeValueAsString(Map.of("sha256", digests)));
      // The previous version keeps its fixed name, which load falls back to (complete()).
      AtomicFiles.replaceDirectory(tmp, target, previous(target));
    } catch (IOException e) {
      throw AtomicFiles.naming(target, e);
    } finally {
      AtomicFiles.deleteTree(tmp);
    }
  }

  /**
   * Refuses a checkpoint directory (or its previous version) that holds anything a save does not
   * write, such as a user's notes in {@code best/}: the next save, or a run started over, deletes
   * the directory whole.
   */
  public static void refuseForeignFiles(Path dir) throws IOException {
    for (Path d : List.of(dir, previous(dir))) {
      if (!Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
      try (java.util.stream.Stream<Path> s = Files.list(d)) {
        java.util.Optional<Path> theirs = s.filter(p -> !(Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
            && (FILES.contains(p.getFileName().toString()) || p.getFileName().toString().equals(MANIFEST)))).findFirst();
        if (theirs.isPresent()) throw notWrittenByTraining(theirs.get());
      }
    }
  }

  /** The refusal to delete {@code p}, which training did not write. */
  public static IOException notWrittenByTraining(Path p) {
    return new IOException(p + ": not written by training; not deleting it (move it, or train into another directory)");
  }

  /**
   * The checkpoint, or a run's {@code checkpoints/} directory, that {@code dir} is or lies in, else
   * null: training replaces and deletes those whole, so nothing else may write there. A checkpoint
   * is told by its manifest and {@code training.json} together (a project's own manifest.json is not one).
   * Looked for where {@code dir} is on disk ({@link AtomicFiles#realLocation}), through links.
   */
  public static Path enclosing(Path dir) {
    for (Path p = AtomicFiles.realLocation(dir); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(MANIFEST)) && Files.isRegularFile(p.resolve(TRAINING))) return p;
      if (p.getFileName() != null && p.getFileName().toString().equals("checkpoints")
          && (exists(p.resolve("latest")) || exists(p.resolve("best")))) {
        return p;
      }
    }
    return null;
  }

  /** Whether a complete checkpoint is at {@code dir} (or its previous version, mid-save). */
  public static boolean exists(Path dir) {
    // A save moves the checkpoint to its previous version, the new one into place, then deletes the
    // previous: an analysis that looked between (dir, then the previous version) saw neither, and
    // said "no checkpoint" of a run being trained. A second look finds the new one.
    for (int look = 0; look < 3; look++) {
      if (Files.isRegularFile(dir.resolve(MANIFEST)) || Files.isRegularFile(previous(dir).resolve(MANIFEST))) return true;
    }
    return false;
  }

  /**
   * Whether {@code p}, next to {@code target}, is something saving {@code target} makes: the
   * checkpoint, the previous version kept until the new one is in place, or a temporary.
   */
  public static boolean isSavedAs(Path target, Path p) {
    String name = p.getFileName().toString();
    return name.equals(target.getFileName().toString()) || name.equals(previous(target).getFileName().toString())
        || AtomicFiles.isTemporarySibling(target, p);
  }

  private static Path previous(Path dir) {
    return dir.toAbsolutePath().getParent().resolve("." + dir.getFileName() + ".old");
  }

  /**
   * A verified DL4J checkpoint: the network (with its updater state), where training stands, and
   * the digest of its {@code model.zip} as verified.
   */
  public record LoadedNetwork(ComputationGraph net, TrainingState state, String weightsSha256) {}

  /** Whether the checkpoint at {@code dir} holds a DL4J network ({@code model.zip}) rather than an invertible model. */
  public static boolean holdsNetwork(Path dir) {
    return Files.isRegularFile(complete(dir).resolve(NETWORK));
  }

  /** Verifies the manifest and loads a DL4J checkpoint written by {@link #save(Path, ComputationGraph, TrainingState)}. */
  public static LoadedNetwork loadNetwork(Path dir) throws IOException {
    return fromComplete(dir, Checkpoints::loadCompleteNetwork);
  }

  private static LoadedNetwork loadCompleteNetwork(Path dir) throws IOException {
    String weights = verify(dir);
    if (!Files.isRegularFile(dir.resolve(NETWORK))) throw new IOException(dir + ": no " + NETWORK + " (not a DL4J checkpoint)");
    ComputationGraph net;
    try {
      net = ModelSerializer.restoreComputationGraph(dir.resolve(NETWORK).toFile(), true);
    } catch (RuntimeException e) {
      // A zip the manifest vouches for can still be no network (a checkpoint assembled by hand):
      // DL4J's refusal is a RuntimeException, which stopped the command with exit code 3.
      throw new IOException(dir.resolve(NETWORK) + ": not a DL4J network saved by ModelSerializer ("
          + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")", e);
    }
    Dl4jClassifier.requireFiniteParameters(net, dir.resolve(NETWORK).toString());
    return new LoadedNetwork(net, readState(dir), weights);
  }

  /**
   * The directory a load of the checkpoint {@code dir} reads: {@code dir}, or its previous version
   * when a save was interrupted between its two renames.
   */
  public static Path complete(Path dir) {
    if (!Files.isRegularFile(dir.resolve(MANIFEST)) && Files.isRegularFile(previous(dir).resolve(MANIFEST))) {
      return previous(dir);
    }
    return dir;
  }

  /**
   * Verifies the manifest and loads everything.
   *
   * @throws IOException one line naming the checkpoint and the file that does not match
   */
  public static Loaded load(Path dir, DataType dt) throws IOException {
    return fromComplete(dir, complete -> loadComplete(complete, dt));
  }

  private static Loaded loadComplete(Path dir, DataType dt) throws IOException {
    LoadedModel m = loadCompleteModel(dir, dt);
    Map<String, INDArray> opt = Npz.read(dir.resolve(OPTIMIZER));
    TrainingState st = readState(dir);
    Map<String, INDArray> objective = Files.exists(dir.resolve(OBJECTIVE)) ? Npz.read(dir.resolve(OBJECTIVE)) : Map.of();
    return new Loaded(m.model(), opt, st, objective, m.weightsSha256());
  }

  /** A verified checkpoint's model, as {@link Loaded} without the training state. */
  public record LoadedModel(InvertibleClassifier model, String weightsSha256) {}

  /**
   * Verifies the manifest and loads the model alone, for analyses: the optimizer's state, which
   * they never use, is twice the model's size in memory.
   */
  public static LoadedModel loadModel(Path dir, DataType dt) throws IOException {
    return fromComplete(dir, complete -> loadCompleteModel(complete, dt));
  }

  private static LoadedModel loadCompleteModel(Path dir, DataType dt) throws IOException {
    String weights = verify(dir);
    if (Files.isRegularFile(dir.resolve(NETWORK))) {
      throw new IOException(dir + ": holds a DL4J network (" + NETWORK + "), not an invertible model");
    }
    return new LoadedModel(ModelFiles.load(dir, dt), weights);
  }

  /** Where training stood at the checkpoint {@code dir}, without verifying or loading the rest. */
  public static TrainingState trainingState(Path dir) throws IOException {
    return fromComplete(dir, Checkpoints::readState);
  }

  interface Reader<T> {
    T read(Path complete) throws IOException;
  }

  /**
   * {@code reader} of {@link #complete}({@code dir}). An error in the previous version says what
   * that is: a hidden ".latest.old" named alone, where checkpoints/latest was asked for, said
   * neither where it came from nor that latest is missing.
   */
  static <T> T fromComplete(Path dir, Reader<T> reader) throws IOException {
    for (int attempt = 1; ; attempt++) {
      byte[] manifest = manifestOf(dir);
      Path complete = complete(dir);
      T read;
      try {
        read = reader.read(complete);
      } catch (IOException e) {
        if (!replacedSince(dir, manifest)) {
          if (complete.equals(dir)) throw e;
          throw new IOException(e.getMessage() + " (" + complete + " is the previous version of " + dir + ", which is"
              + " missing: a save of it was interrupted)", e);
        }
        if (attempt == READS) throw replacedWhileRead(dir, e);
        continue;
      }
      if (!replacedSince(dir, manifest)) return read;
      if (attempt == READS) throw replacedWhileRead(dir, null);
    }
  }

  /**
   * How many times a read of a checkpoint that a save replaced meanwhile is made: a run being
   * trained saves its latest checkpoint while an analysis reads it, whose files then came from two
   * checkpoints ("does not match its SHA-256 in manifest.json (corrupt or modified checkpoint)", or
   * a model other than the weights digest it recorded).
   */
  private static final int READS = 5;

  /** The bytes of the manifest {@code dir}'s load reads ({@link #complete}), null when there is none. */
  private static byte[] manifestOf(Path dir) {
    try {
      return Files.readAllBytes(complete(dir).resolve(MANIFEST));
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Whether a save replaced the checkpoint {@code dir} since its manifest read as {@code manifest}:
   * every save's manifest differs from the one before (its training.json holds the step).
   */
  private static boolean replacedSince(Path dir, byte[] manifest) {
    return !java.util.Arrays.equals(manifest, manifestOf(dir));
  }

  private static IOException replacedWhileRead(Path dir, IOException cause) {
    return new IOException(dir + ": replaced by a new save each of the " + READS + " times it was read (is the run"
        + " being trained?): read it once training stops", cause);
  }

  /**
   * @throws IOException one line naming the file: Jackson names it on a later line only, and the
   *     manifest vouches for its bytes, not that this version of the code can read them
   */
  private static TrainingState readState(Path dir) throws IOException {
    Path file = dir.resolve(TRAINING);
    TrainingState state;
    try {
      state = JSON.readValue(file.toFile(), TrainingState.class);
    } catch (JsonProcessingException e) {
      throw new IOException(file + ": " + JsonErrors.describe(e, "training state"), e);
    }
    String wrong = outOfRange(state);
    if (wrong != null) throw new IOException(file + ": " + wrong);
    return state;
  }

  /**
   * What in a state no save writes, or null. The manifest vouches for bytes whoever listed them: a
   * state edited and listed again resumed "after step -1", training at a learning rate of 0.
   */
  private static String outOfRange(TrainingState s) {
    if (s.step() < 0 || s.epoch() < 0 || s.batch() < 0) {
      return "step, epoch and batch must be >= 0, got " + s.step() + ", " + s.epoch() + ", " + s.batch();
    }
    if (s.batch() > s.step()) return "batch " + s.batch() + " of its epoch is past step " + s.step() + ", the steps of all epochs";
    // bestAccuracy is a score whatever its value: -Infinity before the first validation, NaN without
    // a validation split, and minus the bits per dimension of an MLE run.
    if (s.seconds() != null && !(s.seconds() >= 0 && s.seconds() < Double.POSITIVE_INFINITY)) {
      return "seconds must be a finite time >= 0, got " + s.seconds();
    }
    if (s.configJson() == null) return "configJson is missing";
    return null;
  }

  /**
   * Checks every file against the manifest; returns the digest it checked for the weights
   * ({@link #weightsSha256(Path)}).
   */
  public static String verify(Path dir) throws IOException {
    Path m = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(m)) throw new IOException(dir + ": not a checkpoint (no " + MANIFEST + ")");
    Map<?, ?> digests = listedDigests(m);
    // Only what the manifest lists was checked: one that left out weights.npz vouched for any
    // weights, and its names were resolved wherever they led ("../../x").
    for (String f : FILES) {
      if (Files.exists(dir.resolve(f)) && !digests.containsKey(f)) {
        throw new IOException(dir + ": " + f + " is not in " + MANIFEST + " (corrupt or modified checkpoint)");
      }
    }
    for (Object f : digests.keySet()) {
      if (!FILES.contains(String.valueOf(f))) throw new IOException(m + ": lists " + f + ", which is no checkpoint file");
    }
    for (Map.Entry<?, ?> e : digests.entrySet()) {
      Path f = dir.resolve(String.valueOf(e.getKey()));
      if (!Files.isRegularFile(f)) throw new IOException(dir + ": " + e.getKey() + " is missing");
      if (!sha256(f).equals(e.getValue())) {
        throw new IOException(dir + ": " + e.getKey() + " does not match its SHA-256 in " + MANIFEST
            + " (corrupt or modified checkpoint)");
      }
    }
    return weightsOf(digests);
  }

  /** The manifest {@code m}'s digests by file name; refused when it lists none or does not read. */
  private static Map<?, ?> listedDigests(Path m) throws IOException {
    Object digests;
    try {
      Map<?, ?> manifest = JSON.readValue(m.toFile(), Map.class);
      digests = manifest == null ? null : manifest.get("sha256");
    } catch (IOException e) {
      throw new IOException(m + ": malformed manifest");
    }
    if (!(digests instanceof Map<?, ?> d) || d.isEmpty()) throw new IOException(m + ": malformed manifest");
    return d;
  }

  /** The digest listed for the weights: {@code weights.npz}, or a DL4J network's {@code model.zip}. */
  private static String weightsOf(Map<?, ?> digests) {
    Object w = digests.containsKey(ModelFiles.WEIGHTS) ? digests.get(ModelFiles.WEIGHTS) : digests.get(NETWORK);
    return w instanceof String sha ? sha : null;
  }

  /**
   * The SHA-256 that the manifest of the checkpoint {@code dir} (or of its previous version,
   * mid-save) lists for its weights ({@code weights.npz}, or a DL4J network's {@code model.zip}):
   * which model an analysis made from this checkpoint saw. The files are not read; null when
   * there is no manifest or it lists no weights.
   */
  public static String weightsSha256(Path dir) {
    try {
      return weightsOf(listedDigests(complete(dir).resolve(MANIFEST)));
    } catch (IOException e) {
      return null;
    }
  }

  static String sha256(Path f) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(f), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
