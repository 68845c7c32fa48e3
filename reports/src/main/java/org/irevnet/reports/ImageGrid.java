package org.irevnet.reports;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.irevnet.io.AtomicFiles;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A lossless 8-bit PNG of a grid of grey or RGB images with values in [0, 1] (values outside are
 * clipped, NaN is drawn black). Row {@code r} of the grid shows the images of {@code rows.get(r)}
 * ({@code [n, 1, h, w]} or {@code [n, h, w]} grey, {@code [n, 3, h, w]} RGB) left to right; the
 * PNG is grey unless a row is RGB, where grey rows are drawn R = G = B. Every image is
 * magnified {@code scale} times (nearest neighbour) and the images are separated (and
 * surrounded) by {@code gap} pixels of mid grey, so black and white images stay distinguishable.
 */
public final class ImageGrid {
  /** Default magnification: a 32x32 image becomes 96x96. */
  public static final int SCALE = 3;
  /** Default gap between images, in output pixels. */
  public static final int GAP = 2;
  /** Grey level of the gaps. */
  public static final int GAP_LEVEL = 128;

  private ImageGrid() {}

  /** Renders the grid; rows may hold different numbers of images (missing cells stay grey). */
  public static BufferedImage render(List<INDArray> rows, int scale, int gap) {
    if (rows.isEmpty()) throw new IllegalArgumentException("image grid: no rows");
    if (scale < 1 || gap < 0) throw new IllegalArgumentException("image grid: scale must be >= 1 and gap >= 0");
    long h = -1, w = -1;
    int cols = 0;
    double[][] values = new double[rows.size()][];
    int[] channels = new int[rows.size()];
    boolean colour = false;
    for (int r = 0; r < rows.size(); r++) {
      INDArray a = rows.get(r);
      long[] s = a.shape();
      if (a.rank() == 4 && s[1] != 1 && s[1] != 3 || a.rank() != 4 && a.rank() != 3) {
        throw new IllegalArgumentException("image grid: row " + r + " must be [n, 1, h, w], [n, 3, h, w] or [n, h, w],"
            + " got " + java.util.Arrays.toString(s));
      }
      channels[r] = a.rank() == 4 ? (int) s[1] : 1;
      colour |= channels[r] == 3;
      long rh = s[s.length - 2], rw = s[s.length - 1];
      if (h >= 0 && (rh != h || rw != w)) {
        throw new IllegalArgumentException("image grid: row " + r + " has " + rh + "x" + rw + " images, row 0 has "
            + h + "x" + w);
      }
      h = rh;
      w = rw;
      cols = Math.max(cols, (int) s[0]);
      values[r] = Tensors.doubles(a);
    }
    int cellH = (int) h * scale, cellW = (int) w * scale;
    int width = cols * cellW + (cols + 1) * gap, height = rows.size() * cellH + (rows.size() + 1) * gap;
    if (width <= 0 || height <= 0) throw new IllegalArgumentException("image grid: nothing to draw");
    BufferedImage img = new BufferedImage(width, height,
        colour ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
    WritableRaster raster = img.getRaster();
    int bands = raster.getNumBands();
    int[] fill = new int[width * height];
    java.util.Arrays.fill(fill, GAP_LEVEL);
    for (int band = 0; band < bands; band++) raster.setSamples(0, 0, width, height, band, fill);
    int plane = (int) (h * w);
    for (int r = 0; r < rows.size(); r++) {
      int n = plane == 0 ? 0 : values[r].length / (plane * channels[r]);
      for (int c = 0; c < n; c++) {
        int x0 = gap + c * (cellW + gap), y0 = gap + r * (cellH + gap);
        for (int band = 0; band < bands; band++) {
          int offset = (c * channels[r] + Math.min(band, channels[r] - 1)) * plane;
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
              int level = level(values[r][offset + y * (int) w + x]);
              for (int dy = 0; dy < scale; dy++) {
                for (int dx = 0; dx < scale; dx++) {
                  raster.setSample(x0 + x * scale + dx, y0 + y * scale + dy, band, level);
                }
              }
            }
          }
        }
      }
    }
    return img;
  }

  /** The 8-bit grey level of a value: clipped to [0, 1], NaN as 0. */
  static int level(double v) {
    if (!(v > 0)) return 0;
    if (v >= 1) return 255;
    return (int) Math.round(v * 255);
  }

  /** Renders the grid and writes it as a PNG, atomically (a reader never sees half a file). */
  public static void write(Path file, List<INDArray> rows, int scale, int gap) throws IOException {
    writePng(file, render(rows, scale, gap));
  }

  /**
   * Has ImageIO cache a PNG it writes or reads in memory, not in a file of the temporary directory:
   * where that was full, writing named the PNG on a disk with room, and reading called a whole PNG
   * unreadable.
   */
  static void cacheInMemory() {
    ImageIO.setUseCache(false);
  }

  /** Writes {@code img} as a PNG atomically (a reader never sees half a file). */
  static void writePng(Path file, BufferedImage img) throws IOException {
    cacheInMemory();
    AtomicFiles.write(file, out -> {
      if (!ImageIO.write(img, "png", out)) throw new IOException(file + ": no PNG writer available");
    });
  }

  /** {@link #write(Path, List, int, int)} with the default scale and gap. */
  public static void write(Path file, List<INDArray> rows) throws IOException {
    write(file, rows, SCALE, GAP);
  }
}
