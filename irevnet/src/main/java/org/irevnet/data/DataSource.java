package org.irevnet.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A dataset on disk whose format has been recognised: what {@code --data} resolves to. Nothing is
 * loaded until {@link #load(Split)}; each call reads the files again (keep the result).
 */
public final class DataSource {

  /** The on-disk layouts. */
  public enum Format {
    /** MNIST-style IDX files, raw or gzipped. */
    IDX,
    /** CIFAR-10 binary batches. */
    CIFAR10,
    /** {@code train/<class>/*.png} and {@code test/<class>/*.png}. */
    PNG_FOLDERS
  }

  private final String name;
  private final Path dir;
  private final Format format;

  public DataSource(String name, Path dir, Format format) {
    this.name = Objects.requireNonNull(name, "name");
    this.dir = Objects.requireNonNull(dir, "dir");
    this.format = Objects.requireNonNull(format, "format");
  }

  /** Short name used in dataset names and reports, e.g. {@code fashion-mnist-mini}. */
  public String name() {
    return name;
  }

  public Path dir() {
    return dir;
  }

  public Format format() {
    return format;
  }

  /** True if the files of this split are present (they may still turn out to be malformed). */
  public boolean has(Split split) {
    return switch (format) {
      case IDX -> IdxFiles.has(dir, split);
      case CIFAR10 -> Cifar10Files.has(dir, split);
      case PNG_FOLDERS -> PngFolders.has(dir, split);
    };
  }

  /** Reads one split; its name is {@code <name>/<split>}, e.g. {@code fashion-mnist/train}. */
  public Dataset load(Split split) {
    String n = name + "/" + split;
    return switch (format) {
      case IDX -> IdxFiles.load(dir, split, n);
      case CIFAR10 -> Cifar10Files.load(dir, split, n);
      case PNG_FOLDERS -> PngFolders.load(dir, split, n);
    };
  }

  public Dataset train() {
    return load(Split.TRAIN);
  }

  public Dataset test() {
    return load(Split.TEST);
  }

  /** Class names as far as they are known without loading (null for IDX data without any). */
  public List<String> classNames() {
    return switch (format) {
      case IDX -> IdxFiles.classNames(dir);
      case CIFAR10 -> Cifar10Files.classNames(dir);
      case PNG_FOLDERS -> PngFolders.classNames(dir);
    };
  }

  @Override
  public String toString() {
    return name + " (" + format + " at " + dir + ")";
  }
}
