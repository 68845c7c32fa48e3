package org.irevnet.layers;

/** What the log-determinant a block reports is. Tests read it to choose their checks. */
public enum LogDetKind {
  /** The exact log|det J|, checked against a brute-force Jacobian. */
  EXACT,
  /** Volume preserving (a permutation, an additive coupling): always zero. */
  ZERO,
  /**
   * The block is injective, not bijective (its Jacobian is not square); the reported value is
   * 1/2 log det(J^T J), which is zero for the isometric embeddings we have.
   */
  INJECTIVE
}
