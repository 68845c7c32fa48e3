package org.irevnet.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A label-predictive pattern stamped into single-channel uint8 images (the shiftMNIST idea of
 * "Excessive Invariance Causes Adversarial Vulnerability"; the construction is the project's own,
 * documented in {@code docs/shortcuts.md}). {@link #apply} writes the pattern of a label into an
 * image; {@link #decode} reads it back. Both work on row-major bytes of {@code rows x cols}
 * images at an offset, so they run over a whole IDX pixel buffer without copies.
 *
 * <p>Every shortcut is deterministic: the same kind, class count, image size and seed give the
 * same patterns.
 */
public abstract sealed class Shortcut permits Shortcut.BinaryCode, Shortcut.Texture {

  /** The two kinds of shortcut. */
  public enum Kind {
    /** A constant-weight binary code of the label in the top-left corner. */
    BINARY_CODE("binary-code"),
    /** A class-specific periodic texture on the background pixels. */
    TEXTURE("texture");

    private final String id;

    Kind(String id) {
      this.id = id;
    }

    /** The name used on the command line and in {@code shortcut.json}. */
    public String id() {
      return id;
    }

    /** The names of the kinds, as {@link #parse} takes them. */
    public static List<String> ids() {
      return Arrays.stream(values()).map(Kind::id).toList();
    }

    /** The kind named {@code id} ({@code binary-code} or {@code texture}). */
    public static Kind parse(String id) {
      for (Kind k : values()) {
        if (k.id.equals(id)) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown shortcut kind '" + id + "' (known: " + String.join(", ", ids()) + ")");
    }
  }

  /** Returned by {@link #decode} when an image carries no valid pattern. */
  public static final int NONE = -1;

  final int classes;
  final int rows;
  final int cols;

  private Shortcut(int classes, int rows, int cols) {
    if (classes < 2) {
      throw new IllegalArgumentException("a shortcut needs at least 2 classes, got " + classes);
    }
    this.classes = classes;
    this.rows = rows;
    this.cols = cols;
  }

  /** The shortcut of this kind for {@code classes} labels on {@code rows x cols} images. */
  public static Shortcut create(Kind kind, int classes, int rows, int cols, long seed) {
    return switch (kind) {
      case BINARY_CODE -> new BinaryCode(classes, rows, cols);
      case TEXTURE -> new Texture(classes, rows, cols, seed);
    };
  }

  public abstract Kind kind();

  /**
   * Stamps the pattern of {@code label} into the image at {@code offset} (in place; the image
   * must still hold the base pixels). Returns the number of pixels whose value changed.
   */
  public final int apply(byte[] px, int offset, int label) {
    int changed = 0;
    for (int r = 0; r < stampRows(); r++) {
      for (int c = 0; c < stampCols(); c++) {
        int p = offset + r * cols + c;
        int v = stampValue(r, c, label, px[p] & 0xFF);
        if (v >= 0 && px[p] != (byte) v) {
          changed++;
          px[p] = (byte) v;
        }
      }
    }
    return changed;
  }

  /** The pattern lies within the top-left {@code stampRows() x stampCols()} pixels. */
  abstract int stampRows();

  abstract int stampCols();

  /** The value of pixel (r, c) in {@code label}'s pattern given its base value; -1: keep it. */
  abstract int stampValue(int r, int c, int label, int base);

  /** The label whose pattern the image at {@code offset} carries, or {@link #NONE}. */
  public abstract int decode(byte[] px, int offset);

  /** The construction's parameters, as written to {@code shortcut.json}. */
  public abstract Map<String, Object> describe();

  /**
   * The label written as a constant-weight binary code: n cells (squares of {@code cell} pixels,
   * two per row from the top-left corner, the corner Fashion-MNIST content reaches least), of
   * which exactly {@code floor(n/2)} are lit (255) and the others dark (0); n is the smallest
   * with C(n, n/2) &gt;= classes (10 classes: a 2-of-5 code in a 6x4 pixel region of a 28x28
   * image). Label k gets the k-th such subset in lexicographic order. The whole region is
   * overwritten. Constant weight means an all-dark corner (a removed code) is no codeword and
   * every codeword lights the same number of pixels. At most {@link #MAX_CLASSES} classes.
   */
  public static final class BinaryCode extends Shortcut {
    static final int LIT = 255;
    /**
     * The most labels a shortcut dataset can hold: it is written as IDX files, whose labels are
     * unsigned bytes. The codes would go further (C(11, 5) = 462 fit the 12x4 region of 256).
     */
    static final int MAX_CLASSES = 256;
    final int cell;
    final int cells;
    final int regionRows;
    final int regionCols;
    final boolean[][] codes;

    BinaryCode(int classes, int rows, int cols) {
      super(classes, rows, cols);
      // Else 257 classes were stamped and then refused by the IDX writer, in a message that named
      // a label and an item but neither the shortcut nor its limit.
      if (classes > MAX_CLASSES) {
        throw new IllegalArgumentException("binary-code: at most " + MAX_CLASSES + " classes, got "
            + classes + " (the dataset's IDX labels are single bytes)");
      }
      int n = 2;
      while (binomial(n, n / 2) < classes) {
        n++;
      }
      cells = n;
      cell = Math.max(1, Math.min(rows, cols) / 14);
      regionRows = (n + 1) / 2 * cell;
      regionCols = 2 * cell;
      if (regionRows > rows || regionCols > cols) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "binary-code: %d classes need a %dx%d pixel code region, the images are %dx%d",
            classes, regionRows, regionCols, rows, cols));
      }
      codes = new boolean[classes][];
      boolean[] c = new boolean[n];
      for (int i = 0; i < n / 2; i++) {
        c[i] = true;
      }
      for (int k = 0; k < classes; k++) {
        codes[k] = c.clone();
        c = nextSubset(c);
      }
    }

    @Override
    public Kind kind() {
      return Kind.BINARY_CODE;
    }

    @Override
    int stampRows() {
      return regionRows;
    }

    @Override
    int stampCols() {
      return regionCols;
    }

    @Override
    int stampValue(int r, int c, int label, int base) {
      int j = cellAt(r, c);
      return j < cells && codes[label][j] ? LIT : 0;
    }

    @Override
    public int decode(byte[] px, int offset) {
      int[] sum = new int[cells];
      for (int r = 0; r < regionRows; r++) {
        for (int c = 0; c < regionCols; c++) {
          int j = cellAt(r, c);
          if (j < cells) {
            sum[j] += px[offset + r * cols + c] & 0xFF;
          }
        }
      }
      boolean[] read = new boolean[cells];
      for (int j = 0; j < cells; j++) {
        read[j] = sum[j] >= 128 * cell * cell;
      }
      for (int k = 0; k < classes; k++) {
        if (java.util.Arrays.equals(read, codes[k])) {
          return k;
        }
      }
      return NONE;
    }

    /** Cell index of a pixel inside the region: two cells per row, row-major. */
    private int cellAt(int r, int c) {
      return (r / cell) * 2 + c / cell;
    }

    @Override
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("corner", "top-left");
      Map<String, Object> region = new LinkedHashMap<>(); // not Map.of: its order varies by run
      region.put("row", 0);
      region.put("col", 0);
      region.put("rows", regionRows);
      region.put("cols", regionCols);
      m.put("region", region);
      m.put("cell_pixels", cell);
      m.put("cells", cells);
      List<int[]> at = new ArrayList<>();
      for (int j = 0; j < cells; j++) {
        at.add(new int[] {(j / 2) * cell, (j % 2) * cell});
      }
      m.put("cell_origins", at);
      m.put("lit_cells_per_code", cells / 2);
      m.put("lit_value", LIT);
      m.put("dark_value", 0);
      List<String> bits = new ArrayList<>();
      for (boolean[] code : codes) {
        StringBuilder sb = new StringBuilder();
        for (boolean b : code) {
          sb.append(b ? '1' : '0');
        }
        bits.add(sb.toString());
      }
      m.put("codes", bits);
      return m;
    }

    /** The next subset of the same size in lexicographic order of lit positions. */
    private static boolean[] nextSubset(boolean[] c) {
      int n = c.length;
      int[] idx = new int[n];
      int w = 0;
      for (int i = 0; i < n; i++) {
        if (c[i]) {
          idx[w++] = i;
        }
      }
      int i = w - 1;
      while (i >= 0 && idx[i] == n - w + i) {
        i--;
      }
      boolean[] next = new boolean[n];
      if (i < 0) {
        return next; // past the last subset; never used as a code
      }
      idx[i]++;
      for (int j = i + 1; j < w; j++) {
        idx[j] = idx[j - 1] + 1;
      }
      for (int j = 0; j < w; j++) {
        next[idx[j]] = true;
      }
      return next;
    }

    private static long binomial(int n, int k) {
      long b = 1;
      for (int i = 1; i <= k; i++) {
        b = b * (n - k + i) / i;
      }
      return b;
    }
  }

  /**
   * A class-specific texture on the background: each class has a seeded random 4x4 binary tile
   * with 8 lit pixels, repeated over the image at a fixed phase; tiles of different classes
   * differ in at least 4 of 16 pixels under every cyclic shift. Pixels of the base image at or
   * below {@link #BACKGROUND_MAX} (background) take the tile's value ({@link #VALUE} or 0); the
   * others keep theirs. Decoding counts, for each class, the pixels equal to {@code VALUE} where
   * its tile is lit minus those where it is dark, and takes the best class if it scores at least
   * {@link #MIN_SCORE}.
   */
  public static final class Texture extends Shortcut {
    static final int TILE = 4;
    static final int VALUE = 96;
    static final int BACKGROUND_MAX = 8;
    static final int MIN_DISTANCE = 4;
    static final int MIN_SCORE = 8;
    static final int MAX_CLASSES = 32;
    static final long TEXTURE_SEED = 0x5445585455524CL; // "TEXTURL"
    final boolean[][] tiles;

    Texture(int classes, int rows, int cols, long seed) {
      super(classes, rows, cols);
      if (classes > MAX_CLASSES) {
        throw new IllegalArgumentException("texture: at most " + MAX_CLASSES
            + " classes, got " + classes + " (use binary-code)");
      }
      SplittableRandom rnd = new SplittableRandom(Seeds.mix(seed, TEXTURE_SEED));
      tiles = new boolean[classes][];
      int found = 0;
      for (int attempt = 0; found < classes; attempt++) {
        if (attempt > 100_000) {
          throw new IllegalStateException("texture: no " + classes + " distinct tiles found");
        }
        boolean[] t = randomTile(rnd);
        boolean ok = true;
        for (int j = 0; j < found && ok; j++) {
          ok = minShiftDistance(t, tiles[j]) >= MIN_DISTANCE;
        }
        if (ok) {
          tiles[found++] = t;
        }
      }
    }

    @Override
    public Kind kind() {
      return Kind.TEXTURE;
    }

    @Override
    int stampRows() {
      return rows;
    }

    @Override
    int stampCols() {
      return cols;
    }

    @Override
    int stampValue(int r, int c, int label, int base) {
      if (base > BACKGROUND_MAX) {
        return -1;
      }
      return tiles[label][(r % TILE) * TILE + c % TILE] ? VALUE : 0;
    }

    @Override
    public int decode(byte[] px, int offset) {
      int[] hits = new int[TILE * TILE];
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          if ((px[offset + r * cols + c] & 0xFF) == VALUE) {
            hits[(r % TILE) * TILE + c % TILE]++;
          }
        }
      }
      int best = NONE;
      int bestScore = MIN_SCORE - 1;
      for (int k = 0; k < classes; k++) {
        int s = 0;
        for (int t = 0; t < hits.length; t++) {
          s += tiles[k][t] ? hits[t] : -hits[t];
        }
        if (s > bestScore) {
          best = k;
          bestScore = s;
        }
      }
      return best;
    }

    @Override
    public Map<String, Object> describe() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tile_pixels", TILE);
      m.put("lit_per_tile", TILE * TILE / 2);
      m.put("value", VALUE);
      m.put("background_max", BACKGROUND_MAX);
      m.put("min_distance_under_shifts", MIN_DISTANCE);
      m.put("decode_min_score", MIN_SCORE);
      List<List<String>> rowsOfTiles = new ArrayList<>();
      for (boolean[] t : tiles) {
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < TILE; r++) {
          StringBuilder sb = new StringBuilder();
          for (int c = 0; c < TILE; c++) {
            sb.append(t[r * TILE + c] ? '1' : '0');
          }
          lines.add(sb.toString());
        }
        rowsOfTiles.add(lines);
      }
      m.put("tiles", rowsOfTiles);
      return m;
    }

    /** A uniformly random tile with exactly half of its pixels lit. */
    private static boolean[] randomTile(SplittableRandom rnd) {
      int n = TILE * TILE;
      int[] order = Batches.permutation(n, rnd);
      boolean[] t = new boolean[n];
      for (int i = 0; i < n / 2; i++) {
        t[order[i]] = true;
      }
      return t;
    }

    /** Smallest Hamming distance between {@code a} and a cyclic shift of {@code b}. */
    static int minShiftDistance(boolean[] a, boolean[] b) {
      int min = Integer.MAX_VALUE;
      for (int dy = 0; dy < TILE; dy++) {
        for (int dx = 0; dx < TILE; dx++) {
          int d = 0;
          for (int r = 0; r < TILE; r++) {
            for (int c = 0; c < TILE; c++) {
              if (a[r * TILE + c] != b[((r + dy) % TILE) * TILE + (c + dx) % TILE]) {
                d++;
              }
            }
          }
          min = Math.min(min, d);
        }
      }
      return min;
    }
  }
}
