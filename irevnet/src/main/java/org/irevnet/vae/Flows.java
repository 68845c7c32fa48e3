package org.irevnet.vae;

import java.util.ArrayList;
import java.util.List;

/** The posterior flows of {@code irevnet vae --flow}, by name. */
public final class Flows {
  private Flows() {}

  public static final List<String> NAMES = List.of("none", "planar", "householder",
      "sylvester-orthogonal", "sylvester-householder", "sylvester-triangular");

  /**
   * The flow called {@code name} on a {@code dim}-dimensional latent.
   *
   * @param steps planar and Sylvester steps; for {@code householder} the number of reflections
   * @param reflections Householder reflections making each sylvester-householder step's Q
   * @param orthonormal columns of each sylvester-orthogonal step's Q
   */
  public static FlowStack create(String name, int dim, int steps, int reflections, int orthonormal) {
    if (steps < 1) throw new IllegalArgumentException("flow steps must be >= 1, got " + steps);
    List<LatentFlow> list = new ArrayList<>();
    switch (name) {
      case "none" -> { }
      case "householder" -> list.add(new HouseholderFlow(dim, steps));
      default -> {
        for (int k = 0; k < steps; k++) list.add(step(name, dim, k, reflections, orthonormal));
      }
    }
    return new FlowStack(dim, list);
  }

  private static LatentFlow step(String name, int dim, int k, int reflections, int orthonormal) {
    return switch (name) {
      case "planar" -> new PlanarFlow(dim);
      case "sylvester-orthogonal" -> SylvesterFlow.orthogonal(dim, orthonormal);
      case "sylvester-householder" -> SylvesterFlow.householder(dim, reflections);
      case "sylvester-triangular" -> SylvesterFlow.triangular(dim, k % 2 == 1);
      default -> throw new IllegalArgumentException("unknown flow '" + name + "'; expected one of " + String.join(", ", NAMES));
    };
  }
}
