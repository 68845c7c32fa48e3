package org.irevnet.data;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.irevnet.io.AtomicFiles;

/**
 * IDX files of MNIST, Fashion-MNIST and EMNIST: {@code train-images-idx3-ubyte},
 * {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte},
 * raw or gzipped (detected from the content; the usual names end in {@code .gz}). EMNIST's
 * {@code emnist-<set>-train-images-idx3-ubyte.gz} and {@code emnist-<set>-test-...} names are found
 * too; EMNIST stores its images transposed, so images of files whose name starts with {@code
 * emnist} are transposed back.
 *
 * <p>Every header is checked (magic number, counts, sizes, and, for raw files, the file length)
 * before the pixel buffer is allocated; gzipped data is read into a buffer that grows only with
 * the bytes actually present, so a header that claims more images than the file holds is
 * reported as truncated instead of allocating the claimed size.
 *
 * <p>Class names of a directory: {@code classes.txt} (one per line, in label order) if present,
 * else EMNIST's {@code *mapping.txt} (that of the images' set where there are several; a label and
 * one or more character codes per line, labels
 * consecutive from 0, or from 1 as in EMNIST letters, whose label L is then class L - 1), else the ten
 * Fashion-MNIST names if the directory's name contains {@code fashion}, else {@code "0"} up to
 * the largest label of both splits: a label only the test split has is a class of the training
 * split too, so that the two agree.
 */
public final class IdxFiles {
  private IdxFiles() {}

  public static final int IMAGES_MAGIC = 0x00000803;
  public static final int LABELS_MAGIC = 0x00000801;

  /** Unsigned-byte images read from an IDX3 file, row-major, {@code n x rows x cols} bytes. */
  public record Images(int count, int rows, int cols, byte[] pixels) {}

  /** Reads an IDX3 unsigned-byte image file (raw or gzipped). */
  public static Images readImages(Path file) {
    DataFiles.requireFile(file);
    boolean gz = DataFiles.isGzip(file);
    try (InputStream in = DataFiles.open(file, gz)) {
      long magic = DataFiles.readHeaderInt(in, file, "magic number");
      if (magic != IMAGES_MAGIC) {
        throw new DataFormatException(file, String.format(
            "wrong magic number 0x%08X, expected 0x%08X (IDX images: unsigned bytes, 3 dimensions)%s",
            magic, IMAGES_MAGIC, magic == LABELS_MAGIC ? "; this is a label file" : ""));
      }
      long n = DataFiles.readHeaderInt(in, file, "image count");
      long rows = DataFiles.readHeaderInt(in, file, "row count");
      long cols = DataFiles.readHeaderInt(in, file, "column count");
      if (n == 0) {
        throw new DataFormatException(file, "header says the file holds 0 images");
      }
      Pixels.checkSide(file, "row count", rows);
      Pixels.checkSide(file, "column count", cols);
      long payload = n * rows * cols;
      if (!gz) {
        long length = DataFiles.size(file);
        if (length < 16 + payload) {
          throw new DataFormatException(file, String.format(
              "truncated image file: header claims %d images of %dx%d (%d bytes with the header),"
                  + " the file has %d bytes", n, rows, cols, 16 + payload, length));
        }
        if (length > 16 + payload) {
          throw new DataFormatException(file, String.format(
              "file is longer than its header says: %d images of %dx%d take %d bytes with the"
                  + " header, the file has %d", n, rows, cols, 16 + payload, length));
        }
      }
      Pixels.checkFits(file, n, 1, rows, cols);
      long perImage = rows * cols;
      byte[] pixels = DataFiles.readExactly(in, payload, file, have -> String.format(
          "truncated image file: header claims %d images of %dx%d, the data ends after %d"
              + " complete images (%d of %d bytes)", n, rows, cols, have / perImage, have,
          payload));
      return new Images((int) n, (int) rows, (int) cols, pixels);
    } catch (IOException e) {
      throw DataFiles.unreadable(file, e);
    }
  }

  /** Reads an IDX1 unsigned-byte label file (raw or gzipped). */
  public static int[] readLabels(Path file) {
    DataFiles.requireFile(file);
    boolean gz = DataFiles.isGzip(file);
    try (InputStream in = DataFiles.open(file, gz)) {
      long magic = DataFiles.readHeaderInt(in, file, "magic number");
      if (magic != LABELS_MAGIC) {
        throw new DataFormatException(file, String.format(
            "wrong magic number 0x%08X, expected 0x%08X (IDX labels: unsigned bytes, 1 dimension)%s",
            magic, LABELS_MAGIC, magic == IMAGES_MAGIC ? "; this is an image file" : ""));
      }
      long n = DataFiles.readHeaderInt(in, file, "label count");
      if (n == 0) {
        throw new DataFormatException(file, "header says the file holds 0 labels");
      }
      if (!gz) {
        long length = DataFiles.size(file);
        if (length != 8 + n) {
          throw new DataFormatException(file, String.format(
              "%s: header claims %d labels (%d bytes with the header), the file has %d bytes",
              length < 8 + n ? "truncated label file" : "file is longer than its header says",
              n, 8 + n, length));
        }
      }
      Pixels.checkLabelsFit(file, n);
      byte[] bytes = DataFiles.readExactly(in, n, file, have -> String.format(
          "truncated label file: header claims %d labels, the data ends after %d", n, have));
      int[] labels = new int[bytes.length];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = bytes[i] & 0xFF;
      }
      return labels;
    } catch (IOException e) {
      throw DataFiles.unreadable(file, e);
    }
  }

  /**
   * Reads an image file and its label file into a dataset. {@code classNames} may be null: then
   * they are {@code "0"} up to the file's largest label.
   */
  public static Dataset read(Path imagesFile, Path labelsFile, List<String> classNames,
      String name) {
    return read(imagesFile, labelsFile, classNames == null ? null : new Named(classNames, null, 0), name);
  }

  /** {@link #read}, saying where the class names came from (if known) when a label is beyond them. */
  private static Dataset read(Path imagesFile, Path labelsFile, Named named, String name) {
    List<String> classNames = named == null ? null : named.names();
    Images images = readImages(imagesFile);
    int[] labels = readLabels(labelsFile);
    if (labels.length != images.count()) {
      throw new DataFormatException(labelsFile, labels.length + " labels, but "
          + imagesFile.getFileName() + " has " + images.count() + " images");
    }
    List<String> names = classNames != null ? classNames : numbered(largest(labels) + 1);
    int first = named == null ? 0 : named.firstLabel();
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < first || labels[i] - first >= names.size()) {
        throw new DataFormatException(labelsFile, "label " + labels[i] + " of item " + i
            + " is out of range for " + (first == 0 ? names.size() + " classes"
                : "the labels " + first + ".." + (first + names.size() - 1))
            + (named != null && named.from() != null ? " (named by " + named.from() + ")" : ""));
      }
    }
    if (first != 0) {
      for (int i = 0; i < labels.length; i++) labels[i] -= first;
    }
    byte[] px = images.pixels();
    String fileName = imagesFile.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    if (fileName.startsWith("emnist")) {
      px = transposeEach(px, images.count(), images.rows(), images.cols());
      return new Dataset(name, Pixels.toImages(px, images.count(), 1, images.cols(),
          images.rows()), labels, names);
    }
    return new Dataset(name, Pixels.toImages(px, images.count(), 1, images.rows(),
        images.cols()), labels, names);
  }

  /**
   * Writes an uncompressed IDX3 unsigned-byte image file: {@code count} images of
   * {@code rows x cols} bytes, row-major. The bytes depend only on the arguments.
   */
  public static void writeImages(Path file, int count, int rows, int cols, byte[] pixels)
      throws IOException {
    if ((long) count * rows * cols != pixels.length) {
      throw new IllegalArgumentException(pixels.length + " pixel bytes are not " + count
          + " images of " + rows + "x" + cols);
    }
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
        AtomicFiles.naming(file, Files.newOutputStream(file)), 1 << 16))) {
      out.writeInt(IMAGES_MAGIC);
      out.writeInt(count);
      out.writeInt(rows);
      out.writeInt(cols);
      out.write(pixels);
    }
  }

  /** Writes an uncompressed IDX1 unsigned-byte label file; every label must be 0..255. */
  public static void writeLabels(Path file, int[] labels) throws IOException {
    byte[] bytes = new byte[labels.length];
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] > 255) {
        throw new IllegalArgumentException("label " + labels[i] + " of item " + i
            + " does not fit in an unsigned byte");
      }
      bytes[i] = (byte) labels[i];
    }
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
        AtomicFiles.naming(file, Files.newOutputStream(file)), 1 << 16))) {
      out.writeInt(LABELS_MAGIC);
      out.writeInt(labels.length);
      out.write(bytes);
    }
  }

  /** Loads one split of an IDX directory; class names as described in the class comment. */
  public static Dataset load(Path dir, Split split, String name) {
    DataFiles.requireDirectory(dir);
    Path images = find(dir, split, "images-idx3-ubyte").orElseThrow(() -> missing(dir, split));
    String imagesName = images.getFileName().toString();
    String prefix = prefix(imagesName, split);
    Path labels = find(dir, split, "labels-idx1-ubyte").orElseThrow(() ->
        new DataFormatException(dir, "no " + prefix + "-labels-idx1-ubyte[.gz] next to " + imagesName));
    // Each kind is one file, but the two could be of two sets (a-train-images, b-train-labels)
    // whose counts happen to agree: paired, they would label every image wrongly.
    String labelsName = labels.getFileName().toString();
    String imagesSet = set(imagesName, split);
    int at = labelsName.lastIndexOf(prefix + "-labels");
    if (at < 0 || !labelsName.substring(0, at).equals(imagesSet)) {
      throw new DataFormatException(dir, labelsName + " is not of the set of " + imagesName
          + "; use a directory that holds one set");
    }
    Named named = namedClasses(dir);
    return read(images, labels, named != null ? named : numberedClasses(dir), name);
  }

  /**
   * {@code "0"} up to the largest label of the splits present. They were at least ten, and up to
   * each split's own largest label: a five-class dataset got a 10-way classifier and reports with
   * five empty classes, and a label only the test split had made the splits' classes differ.
   */
  private static Named numberedClasses(Path dir) {
    int max = 0;
    for (Split s : Split.values()) {
      if (!has(dir, s)) continue;
      Optional<Path> labels = find(dir, s, "labels-idx1-ubyte");
      // Its absence is reported when that split is loaded.
      if (labels.isPresent()) max = Math.max(max, largest(readLabels(labels.get())));
    }
    return new Named(numbered(max + 1), null, 0);
  }

  private static int largest(int[] labels) {
    int max = 0;
    for (int y : labels) {
      max = Math.max(max, y);
    }
    return max;
  }

  /** True if the directory holds IDX image files for this split. */
  public static boolean has(Path dir, Split split) {
    return find(dir, split, "images-idx3-ubyte").isPresent();
  }

  /** Class names from {@code classes.txt}, EMNIST's mapping or the directory name; else null. */
  public static List<String> classNames(Path dir) {
    Named n = namedClasses(dir);
    return n == null ? null : n.names();
  }

  /**
   * Class names, where they came from (null: the caller's), for messages, and the label of the
   * first class (1 in EMNIST letters: the files' label L is class L - 1).
   */
  private record Named(List<String> names, String from, int firstLabel) {}

  private static Named namedClasses(Path dir) {
    Path classes = dir.resolve("classes.txt");
    if (Files.isRegularFile(classes)) {
      return new Named(readClassNames(classes), "classes.txt", 0);
    }
    List<Path> mappings = list(dir).stream()
        .filter(p -> p.getFileName().toString().endsWith("mapping.txt")).toList();
    if (!mappings.isEmpty()) {
      return emnistMapping(mappings.size() == 1 ? mappings.get(0) : ownMapping(dir, mappings));
    }
    Path fileName = dir.toAbsolutePath().normalize().getFileName();
    if (fileName != null
        && fileName.toString().toLowerCase(java.util.Locale.ROOT).contains("fashion")) {
      return new Named(Datasets.FASHION_MNIST_CLASSES, "the directory's name: Fashion-MNIST's ten", 0);
    }
    return null;
  }

  /** Non-blank lines, trimmed: one class name per line, in label order, each once. */
  static List<String> readClassNames(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      List<String> names = new ArrayList<>();
      java.util.Map<String, Integer> lineOf = new java.util.HashMap<>();
      for (int i = 0; i < lines.size(); i++) {
        // A byte-order mark (Windows editors write one) became part of the first class's name,
        // which then differed from the same name typed elsewhere.
        String name = (i == 0 ? lines.get(i).replaceFirst("^\uFEFF", "") : lines.get(i)).strip();
        if (!name.isEmpty()) addClassName(names, lineOf, name, i + 1, file);
      }
      if (names.isEmpty()) {
        throw new DataFormatException(file, "no class names in the file");
      }
      return names;
    } catch (java.nio.charset.CharacterCodingException e) {
      // Java's own message was "Input length = 1".
      throw new DataFormatException(file, "not UTF-8 text; save it as UTF-8, one class name a line", e);
    } catch (IOException e) {
      throw DataFiles.unreadable(file, e);
    }
  }

  /**
   * Appends {@code name}, read at {@code line} of {@code file}, unless an earlier line gave it: two
   * classes of one name were accepted, and nothing told their predictions apart.
   */
  private static void addClassName(List<String> names, java.util.Map<String, Integer> lineOf, String name, int line,
      Path file) {
    // In composed form (NFC), as names are compared everywhere: one name typed composed and
    // decomposed was two classes that the analyses then took for one.
    Integer first = lineOf.putIfAbsent(Datasets.nfc(name), line);
    if (first != null) {
      throw new DataFormatException(file, "class name '" + name + "' is given twice (lines " + first + " and " + line + ")");
    }
    names.add(name);
  }

  /**
   * EMNIST's mapping: {@code <label> <character code> ...} a line, labels consecutive from 0
   * (digits, balanced, byclass, bymerge, mnist: one code) or from 1 (letters: the upper- and
   * lower-case codes, named {@code A/a}).
   */
  private static Named emnistMapping(Path file) {
    try {
      List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII).stream()
          .map(String::strip).filter(s -> !s.isEmpty()).toList();
      List<String> names = new ArrayList<>();
      java.util.Map<String, Integer> lineOf = new java.util.HashMap<>();
      int first = !lines.isEmpty() && lines.get(0).split("\\s+")[0].equals("1") ? 1 : 0;
      for (int i = 0; i < lines.size(); i++) {
        String[] parts = lines.get(i).split("\\s+");
        if (parts.length < 2 || !parts[0].equals(Integer.toString(first + i))) {
          String form = "'" + (first + i) + " <character code> ...'";
          throw new DataFormatException(file, "line " + (i + 1) + " is not "
              + (i == 0 ? "'0 <character code> ...' or '1 <character code> ...'" : form) + ": " + lines.get(i));
        }
        java.util.LinkedHashSet<String> chars = new java.util.LinkedHashSet<>();
        for (int k = 1; k < parts.length; k++) {
          int code = Integer.parseInt(parts[k]);
          if (!Character.isValidCodePoint(code)) {
            throw new DataFormatException(file, "line " + (i + 1) + ": " + code + " is not a character code");
          }
          chars.add(new String(Character.toChars(code)));
        }
        addClassName(names, lineOf, String.join("/", chars), i + 1, file);
      }
      return new Named(names, file.getFileName().toString(), first);
    } catch (NumberFormatException e) {
      throw new DataFormatException(file, "bad character code: " + e.getMessage(), e);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new DataFormatException(file, "not ASCII text; EMNIST's mapping is lines of decimal numbers", e);
    } catch (IOException e) {
      throw DataFiles.unreadable(file, e);
    }
  }

  /** Which of the split's {@link #prefixes} an image file's name has ({@code t10k} or {@code test} for the test split). */
  private static String prefix(String imagesName, Split split) {
    return prefixes(split).stream().filter(p -> imagesName.contains(p + "-images")).findFirst()
        .orElse(split.idxPrefix());
  }

  /** What an image file's name has before its split's {@code -images}: {@code emnist-letters-}, or empty. */
  private static String set(String imagesName, Split split) {
    return imagesName.substring(0, imagesName.lastIndexOf(prefix(imagesName, split) + "-images"));
  }

  /**
   * The one of {@code mappings} (two or more {@code *mapping.txt}) that is of the images' set
   * ({@code emnist-letters-mapping.txt} beside {@code emnist-letters-train-images...}). EMNIST's
   * gzip distribution keeps every set's mapping in one folder: with two of them, none was read, and
   * the letters (labels 1..26) became 27 numbered classes, the first without an image.
   */
  private static Path ownMapping(Path dir, List<Path> mappings) {
    List<String> names = mappings.stream().map(p -> p.getFileName().toString()).toList();
    for (Split s : Split.values()) {
      Optional<Path> images = find(dir, s, "images-idx3-ubyte");
      if (images.isEmpty()) continue;
      String own = set(images.get().getFileName().toString(), s) + "mapping.txt";
      if (names.contains(own)) return mappings.get(names.indexOf(own));
      throw new DataFormatException(dir, "several class mappings " + names + " and none is " + own
          + ", that of " + images.get().getFileName() + ": keep the images' own");
    }
    throw new DataFormatException(dir, "several class mappings " + names + ": keep the images' own");
  }

  private static DataFormatException missing(Path dir, Split split) {
    return new DataFormatException(dir, "no " + String.join(" or ", prefixes(split).stream()
        .map(p -> p + "-images-idx3-ubyte[.gz]").toList()) + " (" + split + " images) in this directory");
  }

  /** How file names end before {@code -images...}: {@code t10k} or EMNIST's {@code test} for the test split. */
  private static List<String> prefixes(Split split) {
    return split == Split.TEST ? List.of(split.idxPrefix(), "test") : List.of(split.idxPrefix());
  }

  /**
   * The file of this split and kind: a name ending with {@code <prefix>-<kind>} (or the
   * {@code <prefix>-images.idx3-ubyte} spelling) for one of the split's {@link #prefixes},
   * optionally with {@code .gz}. The raw file wins over its gzipped twin; two different
   * candidates are an error.
   */
  static Optional<Path> find(Path dir, Split split, String kind) {
    String dash = split.idxPrefix() + "-" + kind;
    List<String> endings = new ArrayList<>();
    for (String prefix : prefixes(split)) {
      endings.add(prefix + "-" + kind);
      endings.add(prefix + "-" + kind.replaceFirst("-idx", ".idx"));
    }
    List<Path> raw = new ArrayList<>();
    List<Path> gz = new ArrayList<>();
    List<Path> notFiles = new ArrayList<>();
    for (Path p : list(dir)) {
      String f = p.getFileName().toString();
      String base = f.endsWith(".gz") ? f.substring(0, f.length() - 3) : f;
      if (endings.stream().anyMatch(base::endsWith)) {
        if (Files.isRegularFile(p)) (f.endsWith(".gz") ? gz : raw).add(p);
        else notFiles.add(p);
      }
    }
    List<Path> candidates = new ArrayList<>(raw);
    for (Path g : gz) {
      String twin = g.getFileName().toString();
      twin = twin.substring(0, twin.length() - 3);
      final String t = twin;
      if (raw.stream().noneMatch(r -> r.getFileName().toString().equals(t))) {
        candidates.add(g);
      }
    }
    if (candidates.size() > 1) {
      throw new DataFormatException(dir, "several " + dash + " files: " + candidates.stream()
          .map(p -> p.getFileName().toString()).sorted().toList()
          + "; use a directory that holds one set");
    }
    // The only one of its name a link to nothing or a folder: it was passed over, and the split
    // said to have no such file ("no train-labels-idx1-ubyte[.gz]").
    if (candidates.isEmpty() && !notFiles.isEmpty()) DataFiles.requireFile(java.util.Collections.min(notFiles));
    return candidates.stream().findFirst();
  }

  static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (IOException e) {
      throw DataFiles.unreadable(dir, e);
    }
  }

  static List<String> numbered(int k) {
    List<String> names = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      names.add(Integer.toString(i));
    }
    return names;
  }

  private static byte[] transposeEach(byte[] px, int n, int rows, int cols) {
    byte[] out = new byte[px.length];
    int per = rows * cols;
    for (int k = 0; k < n; k++) {
      int base = k * per;
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          out[base + c * rows + r] = px[base + r * cols + c];
        }
      }
    }
    return out;
  }
}
