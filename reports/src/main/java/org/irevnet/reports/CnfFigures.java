package org.irevnet.reports;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Pictures of 2-D densities for the continuous-flow command: heat maps of a density on a square
 * grid and 2-D histograms of samples, side by side with a caption each.
 */
public final class CnfFigures {
  private static final int CAPTION = 18;
  // A perceptually ordered dark-to-bright map (stops of matplotlib's "magma", approximated).
  private static final int[][] STOPS = {{0, 0, 4}, {59, 15, 112}, {140, 41, 129}, {222, 73, 104}, {254, 159, 109},
      {252, 253, 191}};

  private CnfFigures() {}

  /** One captioned panel: a {@code grid x grid} image of non-negative values, row 0 at the top. */
  public record Panel(String caption, double[] values, int grid) {}

  /**
   * Values on a grid of cell centres over {@code [lo, hi]^2}: row {@code i} is
   * {@code y = hi - (i + 1/2) * cell} (top row highest), column {@code j} is
   * {@code x = lo + (j + 1/2) * cell}; {@code n} rows of two coordinates, row-major.
   */
  public static double[] gridPoints(int grid, double lo, double hi) {
    double cell = (hi - lo) / grid;
    double[] xy = new double[2 * grid * grid];
    for (int i = 0; i < grid; i++) {
      for (int j = 0; j < grid; j++) {
        int k = i * grid + j;
        xy[2 * k] = lo + (j + 0.5) * cell;
        xy[2 * k + 1] = hi - (i + 0.5) * cell;
      }
    }
    return xy;
  }

  /** Counts of {@code points} (rows of two coordinates) in the cells of {@link #gridPoints}. */
  public static double[] histogram(double[] points, int grid, double lo, double hi) {
    double[] counts = new double[grid * grid];
    for (int k = 0; k < points.length / 2; k++) {
      // (int) Math.floor(NaN) is 0: a NaN point would pass the bounds check and count in a corner cell.
      if (!Double.isFinite(points[2 * k]) || !Double.isFinite(points[2 * k + 1])) continue;
      int j = (int) Math.floor((points[2 * k] - lo) / (hi - lo) * grid);
      int i = (int) Math.floor((hi - points[2 * k + 1]) / (hi - lo) * grid);
      if (i >= 0 && i < grid && j >= 0 && j < grid) counts[i * grid + j]++;
    }
    return counts;
  }

  /** The panels side by side, each scaled to its own maximum, pixels {@code scale x scale} per cell. */
  public static BufferedImage render(List<Panel> panels, int scale) {
    int gap = 6;
    int width = 0, height = 0;
    for (Panel p : panels) {
      width += p.grid() * scale + gap;
      height = Math.max(height, p.grid() * scale);
    }
    BufferedImage img = new BufferedImage(width - gap, height + CAPTION, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    int x0 = 0;
    for (Panel p : panels) {
      double max = 0;
      for (double v : p.values()) if (v > max) max = v;
      for (int i = 0; i < p.grid(); i++) {
        for (int j = 0; j < p.grid(); j++) {
          double v = max > 0 ? p.values()[i * p.grid() + j] / max : 0;
          int rgb = color(v);
          for (int dy = 0; dy < scale; dy++) {
            for (int dx = 0; dx < scale; dx++) img.setRGB(x0 + j * scale + dx, CAPTION + i * scale + dy, rgb);
          }
        }
      }
      g.setColor(Color.BLACK);
      g.drawString(p.caption(), x0 + 2, CAPTION - 5);
      x0 += p.grid() * scale + gap;
    }
    g.dispose();
    return img;
  }

  static int color(double v) {
    double u = Double.isFinite(v) ? Math.max(0, Math.min(1, v)) * (STOPS.length - 1) : 0;
    int k = Math.min((int) u, STOPS.length - 2);
    double f = u - k;
    int rgb = 0;
    for (int c = 0; c < 3; c++) {
      rgb = (rgb << 8) | (int) Math.round(STOPS[k][c] + f * (STOPS[k + 1][c] - STOPS[k][c]));
    }
    return rgb;
  }

  /** Renders and writes a PNG atomically. */
  public static void write(Path file, List<Panel> panels, int scale) throws IOException {
    ImageGrid.writePng(file, render(panels, scale));
  }
}
