package org.irevnet.cli;

/**
 * Quiet by default: ND4J's INFO start-up lines and warnings are dropped unless {@code -v}. Must
 * run before anything touches SLF4J (slf4j-simple reads its level once).
 */
final class Logging {
  private static boolean verbose;

  private Logging() {}

  static void configure(boolean v) {
    verbose = v;
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", v ? "info" : "error");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
  }

  static boolean verbose() {
    return verbose;
  }
}
