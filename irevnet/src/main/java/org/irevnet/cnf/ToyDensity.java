package org.irevnet.cnf;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The 2-D toy densities of the FFJORD and neural-spline-flow papers, as samplers (the shapes
 * follow FFJORD's generators, written from their definitions). All lie mostly within [-4, 4]^2.
 */
public enum ToyDensity {
  /**
   * Two interleaved half circles (scikit-learn's {@code make_moons}, noise 0.1), scaled by 2 and
   * shifted by (-1, -0.2), as FFJORD's {@code moons}.
   */
  TWO_MOONS("two-moons") {
    @Override
    void draw(Random rng, double[] xy) {
      double a = Math.PI * rng.nextDouble();
      boolean upper = rng.nextBoolean();
      double x = upper ? Math.cos(a) : 1 - Math.cos(a);
      double y = upper ? Math.sin(a) : 0.5 - Math.sin(a);
      xy[0] = 2 * (x + 0.1 * rng.nextGaussian()) - 1;
      xy[1] = 2 * (y + 0.1 * rng.nextGaussian()) - 0.2;
    }
  },
  /** Four concentric circles of radii 3, 2.25, 1.5 and 0.75 with Gaussian noise 0.08. */
  RINGS("rings") {
    @Override
    void draw(Random rng, double[] xy) {
      double r = 3 * (1 - 0.25 * rng.nextInt(4));
      double a = 2 * Math.PI * rng.nextDouble();
      xy[0] = r * Math.cos(a) + 0.08 * rng.nextGaussian();
      xy[1] = r * Math.sin(a) + 0.08 * rng.nextGaussian();
    }
  },
  /** Uniform on the eight dark squares of a 4x4 checkerboard over [-4, 4]^2. */
  CHECKERBOARD("checkerboard") {
    @Override
    void draw(Random rng, double[] xy) {
      double x = 4 * rng.nextDouble() - 2;
      double y = rng.nextDouble() - 2 * rng.nextInt(2) + Math.floorMod((int) Math.floor(x), 2);
      xy[0] = 2 * x;
      xy[1] = 2 * y;
    }
  },
  /** Eight Gaussians (standard deviation 0.5/sqrt 2) on a circle of radius 4/sqrt 2 ... 2.83. */
  EIGHT_GAUSSIANS("8-gaussians") {
    @Override
    void draw(Random rng, double[] xy) {
      double a = Math.PI / 4 * rng.nextInt(8);
      xy[0] = (4 * Math.cos(a) + 0.5 * rng.nextGaussian()) / Math.sqrt(2);
      xy[1] = (4 * Math.sin(a) + 0.5 * rng.nextGaussian()) / Math.sqrt(2);
    }
  };

  private final String id;

  ToyDensity(String id) {
    this.id = id;
  }

  /** The command-line name, e.g. {@code two-moons}. */
  public String id() {
    return id;
  }

  abstract void draw(Random rng, double[] xy);

  /** {@code n} points as {@code n} rows of two values. */
  public double[] sample(Random rng, int n) {
    double[] out = new double[2 * n];
    double[] xy = new double[2];
    for (int i = 0; i < n; i++) {
      draw(rng, xy);
      out[2 * i] = xy[0];
      out[2 * i + 1] = xy[1];
    }
    return out;
  }

  /** The density named {@code id}, or an error listing the names. */
  public static ToyDensity of(String id) {
    for (ToyDensity t : values()) if (t.id.equals(id)) return t;
    throw new IllegalArgumentException("unknown target '" + id + "' (expected one of " + String.join(", ", ids()) + ")");
  }

  /** The command-line names of the densities, as {@link #of} takes them. */
  public static List<String> ids() {
    return Arrays.stream(values()).map(ToyDensity::id).toList();
  }
}
