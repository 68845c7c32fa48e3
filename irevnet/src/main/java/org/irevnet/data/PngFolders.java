package org.irevnet.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Folders of PNG images: {@code DIR/train/<class>/*.png} and {@code DIR/test/<class>/*.png}. The
 * class names are the names of the class folders of both splits, sorted (so that the labels of
 * train and test agree); the classes take turns, each one's files in name order (so that the first
 * images of a split, which the analyses take, are of every class). Grey images give 1 channel, colour images
 * 3; all images must have the same size and number of channels, where an RGB image with R = G = B
 * at every pixel is grey among grey images (export tools save a stray one so, or a whole split).
 * Grey or colour is decided over both splits, so that they load alike; a split of RGB images
 * without colour beside another of the same is three equal planes. An alpha channel
 * is accepted only when every pixel is opaque (it is then dropped). 8- and 16-bit samples are scaled to
 * [0, 1] by their maximum value; palette PNGs whose entries are all grey are grey. Hidden files
 * and folders (a leading dot: .DS_Store, AppleDouble ._x.png, .ipynb_checkpoints) and files of
 * other kinds (text) are ignored; a folder inside a class folder, an image file of another format
 * (.jpg, .jpeg, .gif, .bmp, .tif, .tiff, .webp), a .png file that is not a PNG or is damaged (a chunk that
 * fails its CRC-32, cut before IEND, a header of more pixels than the file can hold) and an image beside
 * the class folders (train/x.png) are refused, naming the file. Linked class folders and files are read through the link.
 */
public final class PngFolders {
  /** Image files of other formats, refused rather than skipped: a class would lose them unnoticed. */
  private static final Pattern OTHER_IMAGES = Pattern.compile(".*\\.(jpe?g|gif|bmp|tiff?|webp)");

  private PngFolders() {}

  public static boolean has(Path dir, Split split) {
    return Files.isDirectory(dir.resolve(split.folder()));
  }

  /** The class folder names of train and test together, sorted. */
  public static List<String> classNames(Path dir) {
    TreeSet<String> names = new TreeSet<>();
    for (Split s : Split.values()) {
      Path sub = dir.resolve(s.folder());
      if (Files.isDirectory(sub)) {
        // Two folders of one class name, composed and decomposed: one was read and the other's
        // images left out without a word.
        java.util.Map<String, Path> folders = new java.util.HashMap<>();
        for (Path p : IdxFiles.list(sub)) {
          if (!hidden(p)) requireLinkTarget(p);
          if (Files.isDirectory(p) && !hidden(p)) {
            String name = Datasets.nfc(p.getFileName().toString());
            Path other = folders.putIfAbsent(name, p);
            if (other != null) {
              throw new DataFormatException(p, "a second folder of class '" + name + "' (" + other.getFileName()
                  + " is the same name in another Unicode form): merge them into one");
            }
            names.add(name);
          }
        }
      }
    }
    return List.copyOf(names);
  }

  /** The folder of class {@code name} (composed, {@link Datasets#nfc}) in {@code root}, however its name is spelled there. */
  private static Path classFolder(Path root, String name) {
    Path exact = root.resolve(name);
    if (Files.isDirectory(exact)) return exact;
    for (Path p : IdxFiles.list(root)) {
      if (Files.isDirectory(p) && !hidden(p) && Datasets.nfc(p.getFileName().toString()).equals(name)) return p;
    }
    return exact;
  }

  public static Dataset load(Path dir, Split split, String name) {
    DataFiles.requireDirectory(dir);
    Path root = dir.resolve(split.folder());
    if (!Files.isDirectory(root)) {
      throw new DataFormatException(root, "no such directory (expected " + split.folder()
          + "/<class>/*.png)");
    }
    // An image beside the class folders has no class: it was skipped without a word.
    for (Path p : IdxFiles.list(root)) {
      if (!hidden(p) && Files.isRegularFile(p)
          && (isPng(p) || OTHER_IMAGES.matcher(p.getFileName().toString().toLowerCase(Locale.ROOT)).matches())) {
        throw new DataFormatException(p, "an image outside a class folder: images must be in " + split.folder()
            + "/<class>/ (move it into its class's folder or out of " + split.folder() + "/)");
      }
    }
    List<String> classes = classNames(dir);
    List<List<Path>> byClass = new ArrayList<>();
    for (int k = 0; k < classes.size(); k++) {
      List<Path> files = new ArrayList<>();
      byClass.add(files);
      Path classDir = classFolder(root, classes.get(k));
      if (!Files.isDirectory(classDir)) {
        // A test split may lack a class; a class only the test split has is one the model never
        // learns, most often a folder misspelt in one split.
        if (split == Split.TRAIN) {
          throw new DataFormatException(dir.resolve(Split.TEST.folder()).resolve(classes.get(k)),
              "a class without training images (no " + split.folder() + "/" + classes.get(k)
                  + "): add them or remove the folder");
        }
        continue;
      }
      for (Path p : IdxFiles.list(classDir)) {
        if (hidden(p)) {
          continue;
        }
        requireLinkTarget(p);
        // Both were skipped without a word: a class lost its nested or JPEG images unnoticed.
        if (Files.isDirectory(p)) {
          throw new DataFormatException(p, "a folder inside a class folder: images must be directly in "
              + split.folder() + "/<class>/ (move them up or remove the folder)");
        }
        String file = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (OTHER_IMAGES.matcher(file).matches()) {
          throw new DataFormatException(p, "not a PNG image: convert it to PNG or move it out of the class folder");
        }
        if (isPng(p)) files.add(p);
      }
      // Accepted, it was a class without a sample: never learnt, NaN in the per-class accuracy.
      if (files.isEmpty()) {
        throw new DataFormatException(classDir, "class folder without PNG images: add images or remove the folder");
      }
    }
    // The classes take turns (each one's files in name order): the analyses and attacks take the
    // first --count test images, which class by class were all of the first class or two.
    List<Path> files = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int total = byClass.stream().mapToInt(List::size).sum();
    for (int round = 0; files.size() < total; round++) {
      for (int k = 0; k < byClass.size(); k++) {
        if (round < byClass.get(k).size()) {
          files.add(byClass.get(k).get(round));
          labels.add(k);
        }
      }
    }
    if (files.isEmpty()) {
      throw new DataFormatException(root, "no PNG images in " + split.folder() + "/<class>/");
    }
    int n = files.size();
    float[] data = null;
    // One plane an image until a colour one comes: whether an RGB image without colour is grey
    // depends on the others (three equal planes if every image is stored so, as before).
    int c = 1;
    int h = 0;
    int w = 0;
    Path first = files.get(0);
    int firstChannels = 0;
    Path greyFile = null;
    Path colourFile = null;
    for (int i = 0; i < n; i++) {
      Path f = files.get(i);
      BufferedImage img = decode(f);
      int ci = channels(f, img);
      // Once a colour image has come, every RGB image is three planes: no need to look for grey.
      boolean colour = ci == 3 && (colourFile != null || !greyEverywhere(img));
      if (data == null) {
        h = img.getHeight();
        w = img.getWidth();
        firstChannels = ci;
        Pixels.checkFits(f, n, ci, h, w);
        data = new float[n * h * w];
      } else if (img.getHeight() != h || img.getWidth() != w) {
        throw mismatch(f, img, ci, first, h, w, firstChannels);
      }
      if (ci == 1 && colourFile != null) throw mismatch(f, img, 1, colourFile, h, w, 3);
      if (colour && greyFile != null) throw mismatch(f, img, 3, greyFile, h, w, 1);
      if (ci == 1 && greyFile == null) greyFile = f;
      if (colour && colourFile == null) {
        colourFile = f;
        data = threeChannels(data, n, i, h * w);
        c = 3;
      }
      writePixels(f, img, c, data, i * c * h * w);
    }
    // The other split decides too: a test split exported as RGB without colour was three planes
    // beside a grey training split, and the run was refused by the model's channel check.
    Deciding other = firstDeciding(dir, split == Split.TRAIN ? Split.TEST : Split.TRAIN, classes);
    Path decided = colourFile != null ? colourFile : greyFile;
    if (other != null && decided != null && other.channels() != c) {
      throw mismatch(other.file(), other.image(), other.channels(), decided, h, w, c);
    }
    if (greyFile == null && c == 1 && (other == null || other.channels() == 3)) {
      data = threeChannels(data, n, n, h * w);
      c = 3;
    }
    int[] y = labels.stream().mapToInt(Integer::intValue).toArray();
    return new Dataset(name, Nd4j.create(data, new long[] {n, c, h, w}, DataType.FLOAT), y,
        classes);
  }

  /** An image that makes its split grey (1 channel) or colour (3). */
  private record Deciding(Path file, BufferedImage image, int channels) {}

  /**
   * The first image of a split, class by class, that is grey or has colour; null when there is
   * none (no such split, or every image RGB without colour). A split mixing both is refused when
   * it is loaded itself, so its first such image speaks for it; files it cannot read are passed
   * over, to be named then. Usually the first image decides: the scan costs one decoding.
   */
  private static Deciding firstDeciding(Path dir, Split split, List<String> classes) {
    Path root = dir.resolve(split.folder());
    if (!Files.isDirectory(root)) return null;
    for (String name : classes) {
      // Found however the split spells it: a split whose class folders were all decomposed (macOS)
      // decided nothing, and an RGB split without colour beside it loaded as three planes.
      Path classDir = classFolder(root, name);
      if (!Files.isDirectory(classDir)) continue;
      for (Path p : IdxFiles.list(classDir)) {
        if (hidden(p) || !isPng(p)) continue;
        try {
          BufferedImage img = decode(p);
          int ci = channels(p, img);
          if (ci == 1 || !greyEverywhere(img)) return new Deciding(p, img, ci);
        } catch (DataFormatException unreadable) {
          // named when its own split is loaded
        }
      }
    }
    return null;
  }

  /** A file named {@code .png}, in any case, that a split loads (hidden ones aside). */
  private static boolean isPng(Path p) {
    return Files.isRegularFile(p) && p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png");
  }

  /** A link to nothing was skipped without a word: a class folder or an image lost unnoticed. */
  private static void requireLinkTarget(Path p) {
    if (Files.isSymbolicLink(p) && !Files.exists(p)) {
      try {
        p.toRealPath();
      } catch (java.nio.file.NoSuchFileException missing) {
        // the message below
      } catch (IOException unreachable) {
        // A loop of links (a -> b -> a) was "its target is missing", where every link in it exists.
        String why = unreachable instanceof java.nio.file.FileSystemException fs && fs.getReason() != null
            ? fs.getReason() : unreachable.toString();
        throw new DataFormatException(p, "a link that cannot be followed (" + why + "): fix or remove the link");
      }
      throw new DataFormatException(p, "a link to nothing (its target is missing): restore the target or remove the link");
    }
  }

  private static boolean hidden(Path p) {
    return p.getFileName().toString().startsWith(".");
  }

  /**
   * The image of a PNG file. ImageIO reads any format it knows whatever the name: a JPEG renamed
   * .png was read as a JPEG, ignoring its orientation and with its colour conversions.
   */
  private static BufferedImage decode(Path f) {
    try (ImageInputStream in = ImageIO.createImageInputStream(f.toFile())) {
      Iterator<ImageReader> readers = in == null ? Collections.emptyIterator() : ImageIO.getImageReaders(in);
      if (!readers.hasNext()) {
        throw new DataFormatException(f, "not a readable PNG image");
      }
      ImageReader reader = readers.next();
      try {
        if (!"png".equalsIgnoreCase(reader.getFormatName())) {
          throw new DataFormatException(f, "a " + reader.getFormatName().toUpperCase(Locale.ROOT)
              + " image, not a PNG: convert it to PNG");
        }
        // What the decoder checks neither of, before it reads the header: every chunk's CRC-32, the
        // end, and the header's size against the file's.
        String damage;
        try (InputStream whole = new java.io.BufferedInputStream(Files.newInputStream(f), 1 << 16)) {
          damage = org.irevnet.io.PngChecks.problem(whole, DataFiles.size(f));
        }
        if (damage != null) throw new DataFormatException(f, damage);
        reader.setInput(in, true, true);
        // The header's size is checked before decoding: a huge image was decoded whole first
        // (gigabytes), and one the heap could not hold was "not a readable PNG image: Caught
        // exception during read".
        javax.imageio.ImageTypeSpecifier type = reader.getRawImageType(0);
        Pixels.checkFits(f, 1, type == null ? 4 : type.getNumBands(), reader.getHeight(0), reader.getWidth(0));
        return reader.read(0);
      } finally {
        reader.dispose();
      }
    } catch (IOException e) {
      throw new DataFormatException(f, "not a readable PNG image: " + e.getMessage(), e);
    }
  }

  private static int channels(Path f, BufferedImage img) {
    ColorModel cm = img.getColorModel();
    if (cm instanceof IndexColorModel icm) {
      for (int i = 0; i < icm.getMapSize(); i++) {
        if (icm.getRed(i) != icm.getGreen(i) || icm.getGreen(i) != icm.getBlue(i)) {
          return 3;
        }
      }
      return 1;
    }
    int k = cm.getNumColorComponents();
    if (k != 1 && k != 3) {
      throw new DataFormatException(f, "unsupported colour model with " + k + " components");
    }
    return k;
  }

  private static DataFormatException mismatch(Path f, BufferedImage img, int channels, Path other, int h, int w,
      int otherChannels) {
    return new DataFormatException(f, String.format(
        "image is %dx%d with %d channel(s), but %s is %dx%d with %d; all images must agree",
        img.getHeight(), img.getWidth(), channels, other, h, w, otherChannels));
  }

  /** Whether every pixel of a three-component image has R = G = B. */
  private static boolean greyEverywhere(BufferedImage img) {
    int h = img.getHeight();
    int w = img.getWidth();
    if (img.getColorModel() instanceof IndexColorModel) {
      for (int v : img.getRGB(0, 0, w, h, null, 0, w)) {
        if (((v >> 16) & 0xFF) != (v & 0xFF) || ((v >> 8) & 0xFF) != (v & 0xFF)) return false;
      }
      return true;
    }
    Raster r = img.getRaster();
    int[] red = r.getSamples(0, 0, w, h, 0, (int[]) null);
    int[] green = r.getSamples(0, 0, w, h, 1, (int[]) null);
    int[] blue = r.getSamples(0, 0, w, h, 2, (int[]) null);
    return java.util.Arrays.equals(red, green) && java.util.Arrays.equals(red, blue);
  }

  /**
   * {@code n} images of one plane each, the first {@code done} of them written, laid out as three
   * equal planes each.
   */
  private static float[] threeChannels(float[] grey, int n, int done, int plane) {
    float[] out = new float[n * 3 * plane];
    for (int i = 0; i < done; i++) {
      for (int b = 0; b < 3; b++) System.arraycopy(grey, i * plane, out, (i * 3 + b) * plane, plane);
    }
    return out;
  }

  private static void writePixels(Path f, BufferedImage img, int c, float[] out, int offset) {
    int h = img.getHeight();
    int w = img.getWidth();
    int plane = h * w;
    ColorModel cm = img.getColorModel();
    if (cm instanceof IndexColorModel) {
      int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
      for (int p = 0; p < plane; p++) {
        int v = argb[p];
        if ((v >>> 24) != 0xFF) {
          throw transparent(f);
        }
        if (c == 1) {
          out[offset + p] = (v & 0xFF) / 255f;
        } else {
          out[offset + p] = ((v >> 16) & 0xFF) / 255f;
          out[offset + plane + p] = ((v >> 8) & 0xFF) / 255f;
          out[offset + 2 * plane + p] = (v & 0xFF) / 255f;
        }
      }
      return;
    }
    Raster r = img.getRaster();
    int[] samples = new int[plane];
    for (int b = 0; b < c; b++) {
      float max = (float) ((1L << cm.getComponentSize(b)) - 1);
      r.getSamples(0, 0, w, h, b, samples);
      for (int p = 0; p < plane; p++) {
        out[offset + b * plane + p] = samples[p] / max;
      }
    }
    if (cm.hasAlpha()) {
      int a = cm.getNumComponents() - 1;
      int max = (int) ((1L << cm.getComponentSize(a)) - 1);
      r.getSamples(0, 0, w, h, a, samples);
      for (int p = 0; p < plane; p++) {
        if (samples[p] != max) {
          throw transparent(f);
        }
      }
    }
  }

  private static DataFormatException transparent(Path f) {
    return new DataFormatException(f, "has transparent pixels; only opaque images are supported");
  }
}
