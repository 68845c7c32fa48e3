package org.irevnet.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.irevnet.io.AtomicFiles;

/**
 * Resolves the {@code --data} argument. {@link #resolve(String)} accepts:
 *
 * <ul>
 *   <li>a path to an existing directory (absolute or relative to the working directory): its
 *       layout is detected, see {@link #open(Path)}; the dataset's name is the directory's name;
 *   <li>{@code fashion-mnist}: the Debian package {@code dataset-fashion-mnist}, files under
 *       {@code /usr/share/datasets/fashion-mnist};
 *   <li>{@code fashion-mnist-mini}, or any other {@code NAME}: the directory
 *       {@code data/NAME} of the irevnet-workbench checkout, found under {@code $IREVNET_HOME}
 *       (system property {@code irevnet.home} or {@code IREVNET_HOME}, else the environment
 *       variable {@code IREVNET_HOME}) or else in the working directory or one of its parents.
 * </ul>
 *
 * An existing directory wins over a name; write {@code ./NAME} to force a path, which is never
 * looked up as a name when it does not exist.
 */
public final class Datasets {
  private Datasets() {}

  public static final String FASHION_MNIST = "fashion-mnist";
  public static final String FASHION_MNIST_MINI = "fashion-mnist-mini";
  public static final Path FASHION_MNIST_SYSTEM_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final String HOME_PROPERTY = "irevnet.home";
  public static final String HOME_ENV = "IREVNET_HOME";

  public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser",
      "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  /** Names that {@link #resolve(String)} knows without a path. */
  public static List<String> knownNames() {
    return List.of(FASHION_MNIST, FASHION_MNIST_MINI);
  }

  /** Resolves a {@code --data} value (see the class comment). */
  public static DataSource resolve(String nameOrPath) {
    return resolve(nameOrPath, "--data");
  }

  /** {@link #resolve(String)} of a value given as {@code option}, which its refusals name. */
  public static DataSource resolve(String nameOrPath, String option) {
    return new Resolver(Path.of("").toAbsolutePath(), home(), FASHION_MNIST_SYSTEM_DIR)
        .resolve(nameOrPath, option);
  }

  /**
   * {@code nameOrPath} as a run records it: a relative path to a directory made absolute, since
   * the run's analyses may start from another directory; names and absolute paths as they are.
   */
  public static String recorded(String nameOrPath) {
    return new Resolver(Path.of("").toAbsolutePath(), home(), FASHION_MNIST_SYSTEM_DIR).recorded(nameOrPath);
  }

  /**
   * Whether {@code a} and {@code b} name the same data directory, also through a symbolic link (a
   * run trained on {@code data -> /srv/fmnist} and evaluated on {@code /srv/fmnist}); false once
   * either is gone.
   */
  public static boolean sameDirectory(Path a, Path b) {
    try {
      // Equal paths are the same without a look at the disk.
      return AtomicFiles.absolute(a).equals(AtomicFiles.absolute(b)) || Files.isSameFile(a, b);
    } catch (IOException gone) {
      return false;
    }
  }

  /** Opens a directory, detecting its layout; the name is the directory's name. */
  public static DataSource open(Path dir) {
    Path abs = AtomicFiles.absolute(dir);
    Path fileName = abs.getFileName();
    return open(abs, fileName == null ? abs.toString() : fileName.toString());
  }

  /**
   * Opens a directory with the given dataset name, detecting its layout: IDX files
   * ({@code *train-images-idx3-ubyte[.gz]} or {@code *t10k-...}), CIFAR-10 batches
   * ({@code data_batch_N.bin}, {@code test_batch.bin}, also inside a {@code cifar-10-batches-bin}
   * sub-directory) or PNG folders ({@code train/} or {@code test/} sub-directories).
   */
  public static DataSource open(Path dir, String name) {
    DataFiles.requireDirectory(dir);
    Path cifarSub = dir.resolve("cifar-10-batches-bin");
    if (Files.isDirectory(cifarSub) && !isCifar(dir) && !isIdx(dir)) {
      dir = cifarSub;
    }
    List<DataSource.Format> found = new ArrayList<>();
    if (isIdx(dir)) {
      found.add(DataSource.Format.IDX);
    }
    if (isCifar(dir)) {
      found.add(DataSource.Format.CIFAR10);
    }
    if (PngFolders.has(dir, Split.TRAIN) || PngFolders.has(dir, Split.TEST)) {
      found.add(DataSource.Format.PNG_FOLDERS);
    }
    if (found.isEmpty()) {
      throw new DataFormatException(dir, "no dataset found: expected IDX files"
          + " (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...),"
          + " CIFAR-10 batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin)"
          + " or PNG folders (train/<class>/*.png, test/<class>/*.png)");
    }
    if (found.size() > 1) {
      throw new DataFormatException(dir, "ambiguous dataset directory: it looks like " + found
          + "; keep one layout per directory");
    }
    return new DataSource(name, dir, found.get(0));
  }

  private static boolean isIdx(Path dir) {
    return IdxFiles.has(dir, Split.TRAIN) || IdxFiles.has(dir, Split.TEST);
  }

  private static boolean isCifar(Path dir) {
    return Cifar10Files.has(dir, Split.TRAIN) || Cifar10Files.has(dir, Split.TEST);
  }

  /** The checkout's directory ({@code irevnet.home} or {@code IREVNET_HOME}), or null when neither is set. */
  public static String home() {
    for (String key : List.of(HOME_PROPERTY, HOME_ENV)) {
      String v = System.getProperty(key);
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    String env = System.getenv(HOME_ENV);
    return env == null || env.isBlank() ? null : env;
  }

  /** The resolution rules with their inputs made explicit (for tests). */
  record Resolver(Path workingDir, String home, Path fashionMnistDir) {

    /** {@link Datasets#recorded}: what {@link #resolve} reads first, a directory under the working one, made absolute. */
    String recorded(String nameOrPath) {
      if (nameOrPath == null || nameOrPath.isBlank() || Path.of(nameOrPath).isAbsolute()) return nameOrPath;
      Path asPath = AtomicFiles.absolute(workingDir.resolve(nameOrPath));
      return Files.isDirectory(asPath) ? asPath.toString() : nameOrPath;
    }

    DataSource resolve(String nameOrPath) {
      return resolve(nameOrPath, "--data");
    }

    DataSource resolve(String nameOrPath, String option) {
      if (nameOrPath == null || nameOrPath.isBlank()) {
        throw new IllegalArgumentException(option + ": empty dataset name or path (known names: "
            + String.join(", ", knownNames()) + ")");
      }
      Path asPath = AtomicFiles.absolute(workingDir.resolve(nameOrPath));
      if (Files.isDirectory(asPath)) {
        return open(asPath);
      }
      boolean looksLikePath = nameOrPath.contains("/") || nameOrPath.contains("\\")
          || nameOrPath.startsWith(".") || nameOrPath.startsWith("~");
      if (looksLikePath) {
        throw new DataFormatException(asPath, Files.exists(asPath) ? "not a directory"
            : "no such directory");
      }
      if (nameOrPath.equals(FASHION_MNIST)) {
        if (!Files.isDirectory(fashionMnistDir)) {
          throw new DataFormatException(fashionMnistDir, "no such directory: the full"
              + " Fashion-MNIST comes from the Debian package dataset-fashion-mnist"
              + " (apt-get install dataset-fashion-mnist), or use " + option + " fashion-mnist-mini");
        }
        return open(fashionMnistDir, FASHION_MNIST);
      }
      List<Path> looked = new ArrayList<>();
      if (home != null) {
        Path p = Path.of(home).resolve("data").resolve(nameOrPath);
        if (Files.isDirectory(p)) {
          return open(p, nameOrPath);
        }
        looked.add(p);
      }
      for (Path d = workingDir; d != null; d = d.getParent()) {
        Path p = d.resolve("data").resolve(nameOrPath);
        if (Files.isDirectory(p)) {
          return open(p, nameOrPath);
        }
      }
      String where = (home != null ? looked.get(0) + ", " : "") + "data/" + nameOrPath
          + " in " + workingDir + " and its parents";
      if (nameOrPath.equals(FASHION_MNIST_MINI)) {
        throw new DataFormatException(Path.of(nameOrPath), "the dataset shipped with"
            + " irevnet-workbench was not found (looked for " + where + "): run from inside the"
            + " checkout or set IREVNET_HOME to its root");
      }
      if (Files.exists(asPath)) {
        // A file (an archive, one IDX file) was "no such directory", which it is not.
        throw new DataFormatException(asPath, "not a directory: " + option + " takes a dataset's directory (IDX files,"
            + " CIFAR-10 batches or PNG class folders) or a dataset name (" + String.join(", ", knownNames()) + ")");
      }
      throw new DataFormatException(Path.of(nameOrPath), "no such directory and no such dataset"
          + " name (known names: " + String.join(", ", knownNames()) + "; also looked for "
          + where + ")");
    }
  }

  /**
   * A class name in composed form (NFC), as class names are compared and digested everywhere:
   * macOS writes folder names decomposed (NFD), so a class "Café" copied from there into one split
   * and typed into the other was two classes, one of them "without training images", whose two
   * names looked alike.
   */
  public static String nfc(String name) {
    return java.text.Normalizer.normalize(name, java.text.Normalizer.Form.NFC);
  }
}
