package org.irevnet.models;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.host.Memory;
import org.irevnet.io.StrictJson;

/**
 * An architecture as data (the JSON files under {@code org/irevnet/arch/}, or a user's file).
 *
 * @param type {@code fi-revnet} (fully invertible; logits are the first {@code numClasses}
 *     entries of the flattened output) or {@code irevnet} (bijective or injective body plus the
 *     BN-ReLU-avgpool-linear readout head)
 * @param inputShape {@code [c, h, w]}
 * @param stages applied in order
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = false)
public record Architecture(String name, String type, String description, List<Integer> inputShape,
    int numClasses, List<Stage> stages) {

  /**
   * One stage: an optional {@code SpaceToDepth(2)} ({@code squeeze}, default true), optional
   * {@code pad} zero channels (injective), then {@code steps} steps of [ActNorm if {@code
   * actnorm}, permutation ({@code none}, {@code reverse}, {@code 1x1conv}), coupling]. {@code
   * scaleFloor} is the affine couplings' smallest scale (see {@code AffineCoupling}; default 0).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Stage(int steps, int hidden, int kernel, String coupling, Boolean actnorm,
      Boolean squeeze, Integer pad, String permutation, Double scaleFloor) {
    public double scaleFloorValue() { return scaleFloor == null ? 0.0 : scaleFloor; }
    public boolean hasActnorm() { return actnorm != null && actnorm; }
    public boolean hasSqueeze() { return squeeze == null || squeeze; }
    public int padChannels() { return pad == null ? 0 : pad; }
    public String permutationKind() { return permutation == null ? "none" : permutation; }
  }

  public static final List<String> BUNDLED = List.of("fi-revnet-s", "irevnet-s", "irevnet-s-inj");

  /**
   * Whether the model is bijective: no stage pads zero channels (an {@code InjectivePad}). Not a
   * field of model.json, which is read back strictly.
   */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isBijective() {
    return stages.stream().allMatch(s -> s.padChannels() == 0);
  }

  /** Whether z splits into logits z_s and nuisance z_n: a fully invertible RevNet. Not a field of model.json. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isFullyInvertible() {
    return "fi-revnet".equals(type);
  }

  /** {@link #requireFullyInvertible(String, String)} for what uses the split itself. */
  public void requireFullyInvertible(String what) {
    requireFullyInvertible(what, ", whose z splits into logits z_s and nuisance z_n");
  }

  /**
   * Refuses an architecture without the z_s/z_n split in one line: "{@code what} needs a fully
   * invertible (fi-revnet) model{@code why}; 'NAME' is TYPE", {@code why} saying what of it is used.
   */
  public void requireFullyInvertible(String what, String why) {
    if (!isFullyInvertible()) {
      throw new IllegalArgumentException(what + " needs a fully invertible (fi-revnet) model" + why + "; '" + name
          + "' is " + type);
    }
  }

  /**
   * Most steps a stage may have: 100000 took minutes to build and then ran out of memory; the
   * bundled stages have 2 or 3, published flows and i-RevNets tens.
   */
  public static final int MAX_STEPS = 1000;

  /** The keys of a stage that describe its couplings: required when it has steps. */
  private static final List<String> COUPLING_KEYS = List.of("hidden", "kernel", "coupling");

  /** The keys of a stage read as Java ints, which read a JSON null as 0. */
  private static final List<String> INTEGER_KEYS = List.of("steps", "hidden", "kernel");

  /**
   * Bytes a parameter takes in training: float32 values and Adam's two moments. Gradients are not
   * held for the whole model: Adam steps each block as the reversible backward finishes it.
   */
  public static final int TRAINING_BYTES_PER_PARAMETER = 12;

  private static final ObjectMapper JSON = StrictJson.scalars(new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT) // "steps": 2.5 built 2 steps
      // A key given twice was read as its last value, and a second document after the first ignored.
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS));

  /**
   * {@code nameOrPath} as a run records it: an architecture file (what {@link #load} reads as one:
   * an existing file, before any name) made absolute and normalised, since the run may be resumed
   * and analysed from another working directory, as {@code Datasets.recorded} does for {@code
   * --data}; bundled and baseline names, and a path to no file, as they are (the latter is refused
   * as it loads, naming it as typed).
   */
  public static String recorded(String nameOrPath) {
    return recorded(nameOrPath, Path.of("").toAbsolutePath());
  }

  /** {@link #recorded(String)} with the working directory explicit (for tests). */
  static String recorded(String nameOrPath, Path workingDir) {
    if (nameOrPath == null || nameOrPath.isBlank() || Baselines.isBaseline(nameOrPath)) return nameOrPath;
    Path asPath = org.irevnet.io.AtomicFiles.absolute(workingDir.resolve(nameOrPath));
    return Files.isRegularFile(asPath) ? asPath.toString() : nameOrPath;
  }

  /**
   * A bundled architecture by name, or a JSON file by path.
   *
   * @throws UnknownArchitectureException for a name neither bundled nor a file
   * @throws IllegalArgumentException with a one-line reason (unreadable or malformed file, invalid
   *     content)
   */
  public static Architecture load(String nameOrPath) {
    Path p = Path.of(nameOrPath);
    if (Files.isRegularFile(p)) {
      try (InputStream in = Files.newInputStream(p)) {
        return parse(in, p.toString());
      } catch (IOException e) {
        throw new IllegalArgumentException(p + ": cannot read architecture: " + e.getMessage(), e);
      }
    }
    // No bundled name has a slash or ends in .json: such an argument is a file, and a missing one
    // was reported as an unknown architecture name.
    if (nameOrPath.endsWith(".json") || nameOrPath.contains("/") || nameOrPath.contains(java.io.File.separator)) {
      // A relative path says where it was looked for: a --config file's, or a run's recorded before
      // runs recorded theirs absolute, is read from the working directory, not from where it was written.
      throw new IllegalArgumentException(p + (Files.isDirectory(p) ? ": is a directory, not an architecture file"
          : ": architecture file not found" + (p.isAbsolute() ? "" : " (looked for " + p.toAbsolutePath().normalize() + ")")));
    }
    InputStream in = Architecture.class.getResourceAsStream("/org/irevnet/arch/" + nameOrPath + ".json");
    if (in == null) {
      throw new UnknownArchitectureException(nameOrPath, BUNDLED);
    }
    try (in) {
      return parse(in, nameOrPath);
    } catch (IOException e) {
      throw new IllegalArgumentException(nameOrPath + ": " + e.getMessage(), e);
    }
  }

  static Architecture parse(InputStream in, String source) throws IOException {
    JsonNode tree;
    Architecture a;
    try {
      tree = JSON.readTree(in);
      a = JSON.treeToValue(tree, Architecture.class);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + ": " + org.irevnet.io.JsonErrors.describe(e, "architecture"), e);
    }
    if (a == null) throw new IllegalArgumentException(source + ": malformed architecture JSON: the file must hold one JSON object");
    // The tree is checked after the mapping, so a misspelt key is still refused as the unknown one.
    // A missing or null integer read as 0: "numClasses" was refused as "must be >= 2, got 0", a
    // value the file does not have, and a stage without "steps" (or "steps": null) became a
    // SpaceToDepth alone, without a word.
    if (tree.isObject() && !tree.has("numClasses")) {
      throw new IllegalArgumentException(source + ": 'numClasses' is missing (the number of classes, at least 2)");
    }
    if (tree.path("numClasses").isNull()) {
      throw new IllegalArgumentException(source + ": key 'numClasses' must be an integer, got null");
    }
    JsonNode stagesRead = tree.path("stages");
    for (int i = 0; i < stagesRead.size(); i++) {
      JsonNode stage = stagesRead.get(i);
      if (!stage.isObject()) continue;
      for (String key : INTEGER_KEYS) {
        if (stage.path(key).isNull()) {
          throw new IllegalArgumentException(source + ": key 'stages[" + i + "]." + key + "' must be an integer, got null");
        }
      }
      if (!stage.has("steps")) {
        throw new IllegalArgumentException(source + ": stage " + i + ": 'steps' is missing (0 for a stage without"
            + " couplings)");
      }
      // Read as 0 and null, a missing key was refused as "'hidden' must be >= 1", not as missing.
      int steps = stage.path("steps").asInt();
      for (String key : COUPLING_KEYS) {
        if (steps > 0 && !stage.has(key)) {
          throw new IllegalArgumentException(source + ": stage " + i + ": '" + key + "' is missing (its " + steps
              + " step(s) each have a coupling; a stage of \"steps\": 0 needs none)");
        }
      }
    }
    a.validate(source);
    return a;
  }

  public static Architecture fromJson(String json) {
    return fromJson(json, "model.json");
  }

  /** {@link #fromJson(String)}, its errors naming {@code source} (one line, starting with it). */
  public static Architecture fromJson(String json, String source) {
    try {
      return parse(new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), source);
    } catch (IOException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The same architecture with every stage's step count multiplied by {@code k} (benchmarks),
   * validated as a file is: a large {@code k} overflowed to a negative count, which built no steps.
   */
  public Architecture withDepthMultiplier(int k) {
    List<Stage> s = new ArrayList<>();
    for (Stage st : stages) {
      int steps = (int) Math.min(Integer.MAX_VALUE, (long) st.steps() * k);
      s.add(new Stage(steps, st.hidden(), st.kernel(), st.coupling(), st.actnorm(), st.squeeze(), st.pad(),
          st.permutation(), st.scaleFloor()));
    }
    Architecture deeper = new Architecture(k == 1 ? name : name + "-x" + k, type, description, inputShape, numClasses, s);
    deeper.validate(deeper.name());
    return deeper;
  }

  /**
   * The trainable scalars of the built model (what {@code params().count()} of {@link
   * InvertibleClassifier#build} says), from the architecture alone: a model too large to train is
   * refused before anything is allocated.
   */
  public long parameterCount() {
    return Math.round(parameters());
  }

  /**
   * Refuses an architecture with nothing to train (no stage has a step), legal for the analyses (a
   * body of squeezes), where the optimiser's set-up stopped on it (exit code 3); {@code who} starts
   * the line.
   */
  public void requireParameters(String who) {
    if (parameterCount() == 0) {
      throw new IllegalArgumentException(who + "'" + name + "' has no parameters to train (no stage has a step)");
    }
  }

  /**
   * Positions (height x width) of the map an i-RevNet's readout normalises: each channel's batch
   * statistics are over the batch and these. 0 for a fi-RevNet, which has no readout.
   */
  public long readoutPositions() {
    if (!"irevnet".equals(type)) return 0;
    long h = inputShape.get(1), w = inputShape.get(2);
    for (Stage s : stages) {
      if (s.hasSqueeze()) {
        h /= 2;
        w /= 2;
      }
    }
    return h * w;
  }

  /** Values in one input image: channels x height x width. */
  public long inputDims() {
    return inputShape.stream().mapToLong(Integer::longValue).reduce(1, (a, b) -> a * b);
  }

  /** {@link #parameterCount()} in double: a file's extreme values cannot overflow it. */
  private double parameters() {
    double channels = inputShape.get(0);
    double total = 0;
    for (Stage s : stages) {
      channels = (s.hasSqueeze() ? 4 * channels : channels) + s.padChannels();
      double half = channels / 2;
      double out = "affine".equals(s.coupling()) ? channels : half;
      double hidden = s.hidden();
      // The conditioner's three convolutions (half -> hidden -> hidden -> out) and their biases.
      double conditioner = (double) s.kernel() * s.kernel() * hidden * (half + hidden + out) + 2 * hidden + out;
      double actnorm = s.hasActnorm() ? 2 * channels : 0;
      double permutation = "1x1conv".equals(s.permutationKind()) ? 2 * channels * channels + channels : 0;
      total += s.steps() * (actnorm + permutation + conditioner);
    }
    // irevnet's readout: batch normalisation's scale and shift, then the linear layer.
    return "irevnet".equals(type) ? total + 2 * channels + numClasses * (channels + 1) : total;
  }

  /**
   * Refuses {@code parameters} whose training state needs more than {@code limit} (-1 bytes:
   * unknown, nothing refused): the build took minutes to allocate them, then ran out of memory.
   */
  static void checkFitsInMemory(String source, double parameters, Memory.Limit limit) {
    limit.check(String.format(java.util.Locale.ROOT, "%s: %,.0f parameters", source, parameters),
        parameters * TRAINING_BYTES_PER_PARAMETER,
        " to train (" + TRAINING_BYTES_PER_PARAMETER + " bytes each: values and Adam's two moments)");
  }

  /**
   * Refuses a stage with a weight array larger than Java's arrays, naming the file and stage: the
   * build stopped on an integer overflow (exit code 3).
   */
  private static void checkArraySizes(String at, Stage s, long channels) {
    // The conditioner's convolutions: channels/2 -> hidden -> hidden -> channels (affine) or channels/2.
    double out = "affine".equals(s.coupling()) ? channels : channels / 2;
    double largest = (double) s.hidden() * s.kernel() * s.kernel() * Math.max(s.hidden(), out);
    if ("1x1conv".equals(s.permutationKind())) largest = Math.max(largest, (double) channels * channels);
    if (largest > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%sone of its weight arrays would have"
          + " %.3g entries (hidden %d, kernel %d, %d channels), more than an array can hold (%d)", at, largest,
          s.hidden(), s.kernel(), channels, Integer.MAX_VALUE));
    }
  }

  private void validate(String source) {
    String where = source + ": ";
    if (name == null || name.isBlank()) throw new IllegalArgumentException(where + "missing 'name'");
    if (!"fi-revnet".equals(type) && !"irevnet".equals(type)) {
      throw new IllegalArgumentException(where + "'type' must be \"fi-revnet\" or \"irevnet\", got " + type);
    }
    if (inputShape == null || inputShape.size() != 3 || inputShape.stream().anyMatch(v -> v == null || v < 1)) {
      throw new IllegalArgumentException(where + "'inputShape' must be [channels, height, width], got " + inputShape);
    }
    if (numClasses < 2) throw new IllegalArgumentException(where + "'numClasses' must be >= 2, got " + numClasses);
    if (stages == null || stages.isEmpty()) throw new IllegalArgumentException(where + "needs at least one stage");
    long channels = inputShape.get(0);
    long height = inputShape.get(1);
    long width = inputShape.get(2);
    for (int i = 0; i < stages.size(); i++) {
      Stage s = stages.get(i);
      String at = where + "stage " + i + ": ";
      if (s == null) throw new IllegalArgumentException(at + "must be a JSON object, got null");
      if (s.steps() < 0) throw new IllegalArgumentException(at + "'steps' must be >= 0");
      if (s.steps() > MAX_STEPS) {
        throw new IllegalArgumentException(at + "'steps' must be at most " + MAX_STEPS + ", got " + s.steps());
      }
      // These describe the couplings: a stage of steps 0 (SpaceToDepth alone) has none to describe.
      if (s.steps() > 0) {
        if (s.hidden() < 1) throw new IllegalArgumentException(at + "'hidden' must be >= 1");
        if (s.kernel() < 1 || s.kernel() % 2 == 0) throw new IllegalArgumentException(at + "'kernel' must be odd");
        if (!"affine".equals(s.coupling()) && !"additive".equals(s.coupling())) {
          throw new IllegalArgumentException(at + "'coupling' must be \"affine\" or \"additive\", got " + s.coupling());
        }
      }
      if (!List.of("none", "reverse", "1x1conv").contains(s.permutationKind())) {
        throw new IllegalArgumentException(at + "'permutation' must be none, reverse or 1x1conv, got "
            + s.permutationKind());
      }
      if (s.padChannels() < 0) throw new IllegalArgumentException(at + "'pad' must be >= 0");
      if (!(s.scaleFloorValue() >= 0 && s.scaleFloorValue() < 1)) {
        throw new IllegalArgumentException(at + "'scaleFloor' must be in [0, 1)");
      }
      // An additive coupling has no scale to floor: the key was accepted and did nothing.
      if (s.scaleFloor() != null && !"affine".equals(s.coupling())) {
        throw new IllegalArgumentException(at + "'scaleFloor' bounds an affine coupling's scale; this stage's coupling is "
            + (s.coupling() == null ? "not given" : s.coupling()) + ", which has none");
      }
      // These were found only while building, after the earlier stages had been allocated, and
      // named neither the file nor the stage.
      if (s.hasSqueeze() && (height % 2 != 0 || width % 2 != 0)) {
        throw new IllegalArgumentException(at + "its SpaceToDepth(2) needs an even height and width, its input is "
            + channels + "x" + height + "x" + width + " (\"squeeze\": false skips it)");
      }
      if (s.hasSqueeze()) {
        height /= 2;
        width /= 2;
      }
      channels = (s.hasSqueeze() ? 4 * channels : channels) + s.padChannels();
      if (s.steps() > 0 && channels % 2 != 0) {
        throw new IllegalArgumentException(at + "its couplings split the channels in halves, but it has " + channels);
      }
      if (s.steps() > 0) checkArraySizes(at, s, channels);
    }
    if (isFullyInvertible() && channels * height * width < numClasses) {
      throw new IllegalArgumentException(where + "the output has " + channels * height * width + " dimensions, fewer"
          + " than 'numClasses' " + numClasses + " (a fi-revnet's logits are its first numClasses)");
    }
    checkFitsInMemory(source, parameters(), Memory.limit());
  }
}
