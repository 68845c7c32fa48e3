package org.irevnet.models;

import java.util.List;

/**
 * An architecture name that is neither bundled nor a file. A type of its own so that a caller
 * which knows more names (train takes the baselines too) can add them to the message without
 * matching its text.
 */
public final class UnknownArchitectureException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  UnknownArchitectureException(String name, List<String> bundled) {
    super("unknown architecture '" + name + "': use one of " + bundled + " or the path of an architecture JSON file");
  }
}
