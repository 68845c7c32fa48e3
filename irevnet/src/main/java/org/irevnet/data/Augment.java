package org.irevnet.data;

/**
 * Training-time augmentation of a {@link BatchIterator}: random shifts of up to {@code maxShift}
 * pixels in each direction (zero fill). Off ({@link #NONE}) by default.
 */
public record Augment(int maxShift) {
  public static final Augment NONE = new Augment(0);

  public Augment {
    if (maxShift < 0) {
      throw new IllegalArgumentException("maxShift must be >= 0, got " + maxShift);
    }
  }

  public static Augment shifts(int maxShift) {
    return new Augment(maxShift);
  }

  public boolean enabled() {
    return maxShift > 0;
  }
}
