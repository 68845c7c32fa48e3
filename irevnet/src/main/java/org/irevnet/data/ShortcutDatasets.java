package org.irevnet.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.irevnet.io.AtomicFiles;
import org.irevnet.io.RunLock;

/**
 * Writes shortcut datasets: a copy of a base dataset in which a {@link Shortcut} predicts the
 * label in the training split and is broken in the test variants (see
 * {@code docs/shortcuts.md}). The output directory holds IDX files and is itself a dataset for
 * {@code --data}:
 *
 * <pre>
 * OUT/shortcut.json                 the construction (kind, seed, base, patterns, counts)
 * OUT/classes.txt                   class names of the base
 * OUT/train-{images,labels}-...     every training image carries its own label's shortcut
 * OUT/t10k-{images,labels}-...      the consistent test split (so --data OUT trains and
 *                                   validates in-distribution)
 * OUT/consistent/                   test images with their own label's shortcut
 * OUT/randomised/                   test images with the shortcut of a random wrong label,
 *                                   plus t10k-shortcut-idx1-ubyte: that label, per image
 * OUT/removed/                      the base test images unchanged (no shortcut)
 * </pre>
 *
 * Each variant directory is a complete dataset: its train files and {@code classes.txt} are
 * relative symbolic links to the ones in {@code OUT} (copies where links are not supported).
 * Labels are always the true labels. Files are raw (uncompressed) IDX; the same base, kind and
 * seed give byte-identical files. Multi-channel images are converted to grey
 * (0.299 R + 0.587 G + 0.114 B, rounded) since IDX holds one channel.
 *
 * <p>The directory is built under a temporary name next to {@code OUT} and renamed into place,
 * so a reader never sees half a dataset.
 */
public final class ShortcutDatasets {
  private ShortcutDatasets() {}

  public static final String JSON_FILE = "shortcut.json";
  /** The test variant directories, in the order they are written. */
  public static final List<String> VARIANTS = List.of("consistent", "randomised", "removed");
  /** Per randomised test image, the label whose shortcut it carries. */
  public static final String SHORTCUT_LABELS = "t10k-shortcut-idx1-ubyte";
  static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  static final String CLASSES = "classes.txt";
  static final long WRONG_LABEL_SEED = 0x57524f4e47L; // "WRONG"

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** What was written: the output directory and {@code shortcut.json}'s content. */
  public record Result(Path out, Map<String, Object> description) {}

  /**
   * Builds the shortcut dataset of {@code base} (resolved like {@code --data}; its refusals name
   * {@code --base}, the option data shortcut has) into {@code out}.
   * An existing non-empty {@code out} is refused unless {@code force}, and never replaced when
   * it is (or contains) the base's directory or the working directory.
   *
   * @throws IllegalArgumentException bad input (unknown base, unusable output directory, too
   *     many classes for the kind); the message is one line
   */
  public static Result generate(String base, Shortcut.Kind kind, long seed, Path out,
      boolean force) throws IOException {
    Path target = out.toAbsolutePath().normalize();
    Path cwd = Path.of("").toAbsolutePath().normalize();
    if (cwd.startsWith(target)) {
      throw new IllegalArgumentException(out + ": the output directory would replace the working directory " + cwd);
    }
    // Two of these into one directory at once each found it empty (or each took --force for
    // theirs), and the later one replaced the other's dataset; with --force, one's rename could
    // also meet the other's dataset in place and fail. The second is refused, naming the first.
    try (RunLock writing = RunLock.acquire(target, "written", "wait for it to end, or choose another --out")) {
      return generate(base, kind, seed, out, target, force);
    }
  }

  private static Result generate(String base, Shortcut.Kind kind, long seed, Path out, Path target, boolean force)
      throws IOException {
    checkTarget(target, force);
    DataSource src = Datasets.resolve(base, "--base");
    if (src.dir().toAbsolutePath().normalize().startsWith(target)) {
      throw new IllegalArgumentException(out + ": the output directory would replace the base"
          + " dataset " + src.dir());
    }
    // Inside a PNG dataset's split folder the output would be read as one of its classes next time.
    for (Split s : Split.values()) {
      Path splitDir = src.dir().toAbsolutePath().normalize().resolve(s.folder());
      if (Files.isDirectory(splitDir) && target.startsWith(splitDir)) {
        throw new IllegalArgumentException(out + ": the output directory lies in the base dataset's " + splitDir
            + ", where it would be read as a class of the base: put it elsewhere");
      }
    }
    for (Split s : Split.values()) {
      if (!src.has(s)) {
        throw new DataFormatException(src.dir(), "the base dataset has no " + s + " split");
      }
    }
    Dataset train = src.train();
    Dataset test = src.test();
    if (train.height() != test.height() || train.width() != test.width()
        || train.channels() != test.channels() || !train.classNames().equals(test.classNames())) {
      throw new DataFormatException(src.dir(), "train and test splits differ in image size,"
          + " channels or classes: " + train + " vs " + test);
    }
    int rows = train.height();
    int cols = train.width();
    int k = train.numClasses();
    Shortcut shortcut = Shortcut.create(kind, k, rows, cols, seed);

    byte[] trainBase = greyBytes(train);
    byte[] testBase = greyBytes(test);
    int[] wrong = wrongLabels(test.labels(), k, seed);
    Map<String, Object> counts = new LinkedHashMap<>();
    byte[] trainPx = stamp(shortcut, trainBase, train.labels(), rows * cols, "train", counts);
    byte[] consistent = stamp(shortcut, testBase, test.labels(), rows * cols, "consistent",
        counts);
    byte[] randomised = stamp(shortcut, testBase, wrong, rows * cols, "randomised", counts);

    Map<String, Object> d = new LinkedHashMap<>();
    d.put("schemaVersion", 1);
    d.put("kind", kind.id());
    d.put("seed", seed);
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("name", src.name());
    b.put("dir", src.dir().toAbsolutePath().normalize().toString());
    b.put("format", src.format().toString());
    b.put("channels", train.channels());
    b.put("converted_to_grey", train.channels() != 1);
    d.put("base", b);
    d.put("rows", rows);
    d.put("cols", cols);
    d.put("class_names", train.classNames());
    d.put("train_images", train.size());
    d.put("test_images", test.size());
    Map<String, Object> layout = new LinkedHashMap<>();
    layout.put(".", "train: every image has its own label's shortcut; test: = consistent/");
    layout.put("consistent", "test images with their own label's shortcut");
    layout.put("randomised", "test images with the shortcut of a uniformly random wrong label ("
        + SHORTCUT_LABELS + "); labels are the true labels");
    layout.put("removed", "the base test images unchanged");
    d.put("layout", layout);
    d.put(kind.id(), shortcut.describe());
    d.put("stamped", counts);

    // createTemporary deletes what a killed run of this command left; a run still writing keeps its own.
    Path tmp = AtomicFiles.createTemporary(target, true);
    try {
      IdxFiles.writeImages(tmp.resolve(TRAIN_IMAGES), train.size(), rows, cols, trainPx);
      IdxFiles.writeLabels(tmp.resolve(TRAIN_LABELS), train.labels());
      IdxFiles.writeImages(tmp.resolve(TEST_IMAGES), test.size(), rows, cols, consistent);
      IdxFiles.writeLabels(tmp.resolve(TEST_LABELS), test.labels());
      Files.writeString(tmp.resolve(CLASSES), String.join("\n", train.classNames()) + "\n",
          StandardCharsets.UTF_8);
      for (String v : VARIANTS) {
        Path dir = Files.createDirectory(tmp.resolve(v));
        for (String f : List.of(TRAIN_IMAGES, TRAIN_LABELS, CLASSES)) {
          link(tmp, v, f);
        }
        switch (v) {
          case "consistent" -> {
            link(tmp, v, TEST_IMAGES);
            link(tmp, v, TEST_LABELS);
          }
          case "randomised" -> {
            IdxFiles.writeImages(dir.resolve(TEST_IMAGES), test.size(), rows, cols, randomised);
            IdxFiles.writeLabels(dir.resolve(TEST_LABELS), test.labels());
            IdxFiles.writeLabels(dir.resolve(SHORTCUT_LABELS), wrong);
          }
          default -> {
            IdxFiles.writeImages(dir.resolve(TEST_IMAGES), test.size(), rows, cols, testBase);
            IdxFiles.writeLabels(dir.resolve(TEST_LABELS), test.labels());
          }
        }
      }
      Files.writeString(tmp.resolve(JSON_FILE), JSON.writeValueAsString(d) + "\n",
          StandardCharsets.UTF_8);
      install(tmp, target);
    } catch (IOException e) {
      throw AtomicFiles.naming(target, e); // not a file of the temporary directory, whose name means nothing
    } finally {
      AtomicFiles.deleteTree(tmp);
    }
    return new Result(target, d);
  }

  /**
   * Reads {@code shortcut.json} of a generated directory.
   *
   * @throws IOException one line naming the file, and for malformed JSON the line and column:
   *     Jackson's own message quoted the file's text over several lines
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> readDescription(Path dir) throws IOException {
    Path file = dir.resolve(JSON_FILE);
    Map<String, Object> d;
    try {
      d = JSON.readValue(Files.readAllBytes(file), Map.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException(file + ": " + org.irevnet.io.JsonErrors.describe(e, "shortcut"), e);
    }
    if (d == null) throw new IOException(file + ": malformed shortcut JSON: the file must hold one JSON object");
    return d;
  }

  /**
   * For each label, a uniformly random different label: {@code (y + 1 + u) mod k} with u
   * uniform in 0..k-2, drawn from a seed per image, so it does not depend on the order of work.
   */
  static int[] wrongLabels(int[] labels, int k, long seed) {
    int[] w = new int[labels.length];
    for (int i = 0; i < labels.length; i++) {
      long h = Seeds.mix(seed, WRONG_LABEL_SEED, i);
      w[i] = (labels[i] + 1 + (int) Long.remainderUnsigned(h, k - 1)) % k;
    }
    return w;
  }

  /**
   * A copy of {@code base} with image i carrying the shortcut of {@code labels[i]}. Checks that
   * each image decodes to its label and records the counts under {@code name}.
   */
  private static byte[] stamp(Shortcut shortcut, byte[] base, int[] labels, int per,
      String name, Map<String, Object> counts) {
    byte[] px = base.clone();
    long changed = 0;
    int minChanged = Integer.MAX_VALUE;
    int decoded = 0;
    for (int i = 0; i < labels.length; i++) {
      int c = shortcut.apply(px, i * per, labels[i]);
      changed += c;
      minChanged = Math.min(minChanged, c);
      if (shortcut.decode(px, i * per) == labels[i]) {
        decoded++;
      }
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", labels.length);
    m.put("decoded_as_stamped", decoded);
    m.put("changed_pixels_mean", Math.round(1000.0 * changed / labels.length) / 1000.0);
    m.put("changed_pixels_min", minChanged);
    counts.put(name, m);
    return px;
  }

  /** The images as uint8 bytes, one channel (grey for 3 channels), row-major per image. */
  static byte[] greyBytes(Dataset d) {
    float[] f = Pixels.floats(d.images());
    int c = d.channels();
    int per = d.height() * d.width();
    byte[] out = new byte[d.size() * per];
    if (c == 1) {
      for (int i = 0; i < out.length; i++) {
        out[i] = (byte) Math.round(f[i] * 255f);
      }
    } else if (c == 3) {
      for (int n = 0; n < d.size(); n++) {
        int base = n * 3 * per;
        for (int p = 0; p < per; p++) {
          double r = Math.round(f[base + p] * 255f);
          double g = Math.round(f[base + per + p] * 255f);
          double bl = Math.round(f[base + 2 * per + p] * 255f);
          out[n * per + p] = (byte) Math.round(0.299 * r + 0.587 * g + 0.114 * bl);
        }
      }
    } else {
      throw new IllegalArgumentException(d.name() + ": " + c
          + " channels; shortcut datasets take 1 (grey) or 3 (RGB, converted to grey)");
    }
    return out;
  }

  /** Temporary directories are created owner-only; the dataset is as readable as a new one. */
  private static void checkTarget(Path target, boolean force) throws IOException {
    if (Files.exists(target) && !Files.isDirectory(target)) {
      throw new IllegalArgumentException(target + ": exists and is not a directory");
    }
    if (!force && Files.isDirectory(target) && !isEmpty(target)) {
      throw new IllegalArgumentException(target + ": exists and is not empty (use --force to"
          + " replace it)");
    }
    AtomicFiles.createDirectories(target.getParent());
  }

  private static boolean isEmpty(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isEmpty();
    }
  }

  /** {@code root/variant/name} as a relative link to {@code root/name}, or a copy. */
  private static void link(Path root, String variant, String name) throws IOException {
    Path link = root.resolve(variant).resolve(name);
    try {
      Files.createSymbolicLink(link, Path.of("..", name));
    } catch (UnsupportedOperationException | FileSystemException e) {
      Files.copy(root.resolve(name), link);
    }
  }

  /**
   * Moves the finished {@code tmp} to {@code target}, replacing an old directory there, which is
   * moved aside as {@code .NAME.RANDOM.old} until the new one is in place. A run killed between the
   * two renames left that for good, the only copy of the dataset it replaced: it goes once a new
   * dataset is in place, not before, so a run that fails first keeps it.
   */
  private static void install(Path tmp, Path target) throws IOException {
    AtomicFiles.replaceDirectory(tmp, target, AtomicFiles.createSibling(target, ".old", true));
    AtomicFiles.deleteSiblings(target, ".old");
  }
}
