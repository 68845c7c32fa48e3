package org.irevnet.train;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.irevnet.io.JsonErrors;
import org.irevnet.io.StrictJson;
import org.irevnet.settings.Ranges;

/**
 * Everything that determines a training run. The resolved config (defaults, then the config file,
 * then command-line options) is written to the run directory as {@code config.json}.
 *
 * @param schedule {@code cosine} (after warm-up, down to 0 at the last step), {@code step} (x0.1
 *     at 50% and 75% of the steps) or {@code constant}
 * @param checkpointEvery steps between {@code checkpoints/latest} saves (besides every epoch end)
 * @param objective {@code ce}, {@code ice}, or {@code mle} (the model as a density on its input: see {@link
 *     Density}; dequantisation is then always on)
 * @param ice the iCE settings; null (and absent from the JSON) for {@code ce}, filled with {@link
 *     IceConfig#defaults()} by {@link #resolved()} for {@code ice}
 * @param backward {@code reversible} (rebuild activations from the output: memory flat in depth) or
 *     {@code stored} (keep the couplings' conditioner activations: faster, memory grows with depth
 *     and batch); null (configs written before the option) is reversible
 * @param validation training images held out (drawn with {@code seed}) to choose {@code
 *     checkpoints/best} by; 0 (and configs written before the option): none held out, and {@code
 *     best} is the last epoch's, since the test split must not choose it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainConfig(String arch, String data, String objective, int epochs, int batch, double lr,
    double weightDecay, int warmupSteps, String schedule, long seed, int logEvery, int checkpointEvery,
    boolean dequantize, int augmentShift, int evalBatch, IceConfig ice, String backward, int validation) {

  /** The words {@code schedule}, {@code objective} and {@code backward} take. */
  public static final List<String> SCHEDULES = List.of("cosine", "step", "constant"),
      OBJECTIVES = List.of("ce", "ice", "mle"), BACKWARDS = List.of("reversible", "stored");

  public static TrainConfig defaults() {
    return new TrainConfig("fi-revnet-s", "fashion-mnist-mini", "ce", 3, 64, 1e-3, 0.0, 100, "cosine", 0,
        20, 500, false, 0, 250, null, "reversible", 0);
  }

  public boolean hasIceObjective() {
    return "ice".equals(objective);
  }

  public boolean hasMleObjective() {
    return "mle".equals(objective);
  }

  /** Whether training keeps activations for the backward pass ({@code backward} is {@code stored}). */
  public boolean storesActivations() {
    return backward != null && storesActivations(backward);
  }

  /**
   * Reads a backward-pass name.
   *
   * @throws IllegalArgumentException unless it is {@code reversible} or {@code stored}
   */
  public static boolean storesActivations(String backward) {
    Ranges.oneOf("backward", backward, BACKWARDS);
    return backward.equals("stored");
  }

  /**
   * This config with what the objective implies: iCE settings filled with defaults when missing,
   * and dequantisation on when a likelihood is trained (objective {@code mle}, or iCE's MLE term):
   * the likelihood of noise-free pixels, padding included, is unbounded.
   */
  public TrainConfig resolved() {
    if (!hasMleObjective() && !hasIceObjective()) return this;
    return new TrainConfig(arch, data, objective, epochs, batch, lr, weightDecay, warmupSteps, schedule, seed,
        logEvery, checkpointEvery, dequantize || trainsLikelihood(), augmentShift, evalBatch,
        hasIceObjective() ? iceOrDefaults() : ice, backward, validation);
  }

  private IceConfig iceOrDefaults() {
    return ice == null ? IceConfig.defaults() : ice;
  }

  /** Whether training fits a likelihood of the pixels: objective {@code mle}, or iCE with its MLE term. */
  public boolean trainsLikelihood() {
    return hasMleObjective() || hasIceObjective() && iceOrDefaults().wMle() > 0;
  }

  /**
   * Refuses dequantisation turned off explicitly ({@code offBy} says where: {@code --dequantize
   * false}, a config file's {@code "dequantize": false}; null when nothing did) in a config that
   * trains a likelihood, which {@link #resolved()} would turn it on for: it once overrode such a
   * false without a word. The record's false also means "not given", the default, so only the
   * caller, which read the options and the file, can tell the two apart.
   */
  public TrainConfig refuseUndequantizedLikelihood(String offBy) {
    if (offBy == null || !trainsLikelihood()) return this;
    String likelihood = hasMleObjective() ? "objective mle"
        : "ice.wMle " + iceOrDefaults().wMle() + " (the iCE MLE term; --w-mle 0 turns it off)";
    throw new IllegalArgumentException(offBy + " contradicts " + likelihood + ", which needs dequantisation: the"
        + " likelihood of discrete pixels is unbounded without it (leave dequantize out, and it is on)");
  }

  /**
   * Whether the config file {@code file} (one {@link #read} has read) sets {@code key} to false: a
   * false in the merged config can be the default's.
   */
  public static boolean setsFalse(Path file, String key) {
    return Boolean.FALSE.equals(settings(file).get(key));
  }

  /** The keys at the top of a run's {@code config.json}. */
  private static final Set<String> RUN_FILE = Set.of("config", "environment", Trainer.DATASET);

  /**
   * The settings a config file holds: its object, or a run's {@code config.json}'s {@code config}
   * object, which trains as that run did (it was refused as "unknown key 'config'").
   *
   * @throws IllegalArgumentException with a one-line message naming the file
   */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> settings(Path file) {
    Map<String, Object> read;
    try {
      read = JSON.readValue(Files.readString(file), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": config file not found");
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": " + JsonErrors.describe(e, "config"));
    }
    if (read.get("config") instanceof Map<?, ?> run && RUN_FILE.containsAll(read.keySet())) {
      Map<String, Object> saved = new LinkedHashMap<>((Map<String, Object>) run);
      if (saved.get("ice") instanceof Map<?, ?> ice && ignoredPaperCap(ice.get("nuisanceForm"), ice.get("paperCap"))) {
        Map<String, Object> uncapped = new LinkedHashMap<>((Map<String, Object>) ice);
        uncapped.put("paperCap", null);
        saved.put("ice", uncapped);
      }
      return saved;
    }
    return read;
  }

  /**
   * Whether a saved config's {@code paperCap} is one its run never used: runs before 2026-12-02
   * recorded the cap (ln 10) for every iCE run, and the bounded form has none, so such a run trained
   * as with null. {@link IceConfig#validate} refuses a cap with the bounded form, and refused their
   * {@code --resume} as "--paper-cap is for --nuisance-form paper only", an option nobody gave.
   */
  private static boolean ignoredPaperCap(Object nuisanceForm, Object paperCap) {
    return "bounded".equals(nuisanceForm) && paperCap != null;
  }

  static final ObjectMapper JSON = StrictJson.scalars(new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // a second object, a paste gone wrong, was ignored
      // {"epochs": 2, "epochs": 3} trained 3 epochs without a word (an architecture file refused it).
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)); // "epochs": 2.5 ran 2 epochs

  /**
   * Reads a (partial) config file over {@code base}: keys present in the file replace base's.
   *
   * @throws IllegalArgumentException with a one-line message naming the file
   */
  public static TrainConfig read(Path file, TrainConfig base) {
    Map<String, Object> read = settings(file);
    refuseNulls(file, read);
    try {
      Map<String, Object> merged = JSON.convertValue(base,
          new TypeReference<LinkedHashMap<String, Object>>() {});
      // A partial "ice" object replaces only the keys it names.
      if (read.get("ice") instanceof Map<?, ?> fileIce) {
        Map<String, Object> ice = JSON.convertValue(
            base.ice() != null ? base.ice() : IceConfig.defaults(),
            new TypeReference<LinkedHashMap<String, Object>>() {});
        fileIce.forEach((k, v) -> ice.put(String.valueOf(k), v));
        read.put("ice", ice);
      }
      merged.putAll(read);
      return JSON.convertValue(merged, TrainConfig.class);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + JsonErrors.describe(e, "config"));
    }
  }

  /**
   * Refuses a key given as null: Jackson read it as 0 (or false), and {@code "epochs": null} was
   * refused as "epochs must be at least 1, got 0", naming no file. Only the iCE paperCap has a
   * null of its own (ln C), which config.json writes.
   */
  private static void refuseNulls(Path file, Map<String, Object> read) {
    Map<String, Object> keys = new LinkedHashMap<>(read);
    if (read.get("ice") instanceof Map<?, ?> ice) ice.forEach((k, v) -> keys.put("ice." + k, v));
    keys.forEach((k, v) -> {
      if (v == null && !k.equals("ice.paperCap")) {
        throw new IllegalArgumentException(file + ": key '" + k + "' must not be null: leave the key out instead");
      }
    });
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Primitive keys a saved config may lack: added since the first runs, whose configs do not have
   * them, and read as 0 or false (Jackson's value for a missing primitive), which is what those runs
   * did: no held-out images, adversaries trained on the current batch and not whitened. A new
   * primitive key belongs here, with 0 meaning what the code did before it, or older runs can no
   * longer be resumed.
   */
  private static final Set<String> ADDED_SINCE_FIRST_RUNS = Set.of("validation", "ice.advReplay", "ice.advWhiten");

  /** Text keys a saved config may lack: null means what the code did before the key (see backward). */
  private static final Set<String> TEXT_ADDED_SINCE_FIRST_RUNS = Set.of("backward");

  /**
   * A saved config (a run's {@code config.json}, a checkpoint's): written whole, so a primitive key
   * it lacks (hand-edited, damaged) is refused, not read as 0 or false, which only a range check
   * could catch, and not at all for seed, dequantize or weightDecay; a text key it lacks, not read
   * as null, which {@link #validate} refused without the file's name.
   *
   * @throws IllegalArgumentException with a one-line message naming the key when one is at fault
   */
  public static TrainConfig fromJson(String json) {
    try {
      JsonNode saved = JSON.readTree(json);
      if (saved.path("ice") instanceof ObjectNode ice
          && ignoredPaperCap(ice.path("nuisanceForm").asText(), ice.hasNonNull("paperCap") ? ice.get("paperCap") : null)) {
        ice.putNull("paperCap");
      }
      TrainConfig c = JSON.treeToValue(saved, TrainConfig.class);
      refuseMissingKeys(saved, TrainConfig.class, "");
      if (saved.path("ice").isObject()) refuseMissingKeys(saved.get("ice"), IceConfig.class, "ice.");
      return c;
    } catch (IOException e) {
      throw new IllegalArgumentException(JsonErrors.describe(e, "config"));
    }
  }

  private static void refuseMissingKeys(JsonNode saved, Class<? extends Record> type, String prefix) {
    for (java.lang.reflect.RecordComponent rc : type.getRecordComponents()) {
      String key = prefix + rc.getName();
      JsonNode v = saved.get(rc.getName());
      boolean required = rc.getType().isPrimitive() ? !ADDED_SINCE_FIRST_RUNS.contains(key)
          : rc.getType() == String.class && !TEXT_ADDED_SINCE_FIRST_RUNS.contains(key);
      if (!required || (v != null && !v.isNull())) continue;
      throw new IllegalArgumentException("key '" + key + "' " + (v == null ? "is missing" : "must not be null"));
    }
  }

  /**
   * {@link #fromJson(String)} of what was read from {@code source} (a run's {@code config.json}, the
   * config a checkpoint's state holds).
   *
   * @throws IllegalArgumentException with a one-line message starting with {@code source}
   */
  public static TrainConfig fromJson(String json, String source) {
    try {
      return fromJson(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@link #validate}, naming {@code file} when the refused value came from it: {@code fromFile}
   * is what {@link #read} made of {@code file} over {@code base}, and this config what the
   * command-line options then made of {@code fromFile}. The options are merged before the check,
   * so its message alone cannot say where the refused value came from.
   */
  public TrainConfig validate(Path file, TrainConfig base, TrainConfig fromFile) {
    try {
      return validate();
    } catch (IllegalArgumentException e) {
      throw namingFile(e, file, base, fromFile);
    }
  }

  /**
   * {@code e}, naming {@code file} when the setting its message starts with has the value the file
   * gave (as {@link #validate(Path, TrainConfig, TrainConfig)}); also for the checks that need the
   * data, such as {@code augmentShift} against the image size, which only training can make.
   */
  public IllegalArgumentException namingFile(IllegalArgumentException e, Path file, TrainConfig base,
      TrainConfig fromFile) {
    String key = String.valueOf(e.getMessage()).split(" ", 2)[0];
    JsonNode read = setting(fromFile.resolved(), key);
    // The file's value, unless an option replaced it or the file kept the base's.
    if (!read.isMissingNode() && read.equals(setting(this, key)) && !read.equals(setting(base.resolved(), key))) {
      return new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
    return e;
  }

  /** The value of a setting by its name in validate's messages (an iCE setting's without "ice."); missing if none. */
  private static JsonNode setting(TrainConfig c, String key) {
    JsonNode tree = JSON.valueToTree(c);
    return tree.has(key) ? tree.get(key) : tree.path("ice").path(key);
  }

  /** Checks ranges; the message starts with the setting refused. */
  public TrainConfig validate() {
    // Null from a config.json without the key (--resume reads it as it is).
    if (arch == null) throw new IllegalArgumentException("arch must be an architecture name or file, got null");
    if (data == null) throw new IllegalArgumentException("data must be a dataset name or path, got null");
    Ranges.atLeast("epochs", epochs, 1);
    Ranges.atLeast("batch", batch, 1);
    Ranges.learningRate("lr", lr);
    Ranges.nonNegative("weightDecay", weightDecay);
    // AdamW scales the weights by 1 - lr * weightDecay each step, and no step's rate exceeds lr.
    if (lr * weightDecay >= 1) {
      throw new IllegalArgumentException("weightDecay must be below 1 / lr = " + 1 / lr + " (each step scales the "
          + "weights by 1 - lr * weightDecay), got " + weightDecay);
    }
    Ranges.atLeast("warmupSteps", warmupSteps, 0);
    Ranges.atLeast("augmentShift", augmentShift, 0);
    Ranges.oneOf("schedule", schedule, SCHEDULES);
    Ranges.oneOf("objective", objective, OBJECTIVES);
    if (ice != null) {
      if (!hasIceObjective()) throw new IllegalArgumentException("iCE settings given for objective " + objective);
      ice.validate();
    }
    if (backward != null) storesActivations(backward);
    Ranges.atLeast("logEvery", logEvery, 1);
    Ranges.atLeast("checkpointEvery", checkpointEvery, 1);
    Ranges.atLeast("evalBatch", evalBatch, 1);
    Ranges.atLeast("validation", validation, 0);
    return this;
  }

  /**
   * The settings that differ from {@code before}'s, in declaration order, as {@code key ->
   * "old -> new"}; iCE settings as {@code ice.KEY}.
   */
  public Map<String, String> changesFrom(TrainConfig before) {
    Map<String, String> out = new LinkedHashMap<>();
    changes("", JSON.valueToTree(before), JSON.valueToTree(this), out);
    return out;
  }

  private static void changes(String prefix, JsonNode a,
      JsonNode b, Map<String, String> out) {
    Set<String> keys = new LinkedHashSet<>();
    a.fieldNames().forEachRemaining(keys::add);
    b.fieldNames().forEachRemaining(keys::add);
    for (String k : keys) {
      JsonNode x = a.path(k), y = b.path(k);
      if (x.isObject() && y.isObject()) changes(prefix + k + ".", x, y, out);
      else if (!x.equals(y)) out.put(prefix + k, (x.isMissingNode() ? "none" : x) + " -> " + (y.isMissingNode() ? "none" : y));
    }
  }

  /** The learning rate at a global step (0-based) of {@code total} steps. */
  public double lrAt(long step, long total) {
    if (warmupSteps > 0 && step < warmupSteps) return lr * (step + 1) / warmupSteps;
    double progress = total <= warmupSteps ? 1.0 : (double) (step - warmupSteps) / (total - warmupSteps);
    return switch (schedule) {
      case "cosine" -> lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1.0, progress)));
      case "step" -> lr * (progress < 0.5 ? 1 : progress < 0.75 ? 0.1 : 0.01);
      default -> lr;
    };
  }
}
