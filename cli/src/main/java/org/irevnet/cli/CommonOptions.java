package org.irevnet.cli;

import org.irevnet.host.Memory;
import picocli.CommandLine.Option;

/** Options every command takes. */
final class CommonOptions {
  @Option(names = "--threads", description = "ND4J/OpenMP/BLAS threads (default: all cores, or OMP_NUM_THREADS when set).")
  Integer threads;

  /** More threads than any CPU this runs on has cores. */
  static final int MAX_THREADS = 1024;

  @Option(names = {"-v", "--verbose"}, description = "Show ND4J's log lines and stack traces.")
  boolean verbose;

  // Every command's --help shows this one text: it names the commands it quiets (HelpTextTest
  // checks them against the code), as each command said it kept "train's step line".
  @Option(names = "--no-progress", description = "No progress on stderr: no progress bar (train, quickstart's"
      + " trainings), status line (bench, cnf, invert --stability) or epoch lines (vae); the other commands show none. train prints its"
      + " step line every --log-every steps and its epoch lines instead, as it does when stderr is no terminal.")
  boolean noProgress;

  /** Refuses a count option below 1 with the one message every command gives for it. */
  static void positive(String option, int value) {
    org.irevnet.settings.Ranges.atLeast(option, value, 1);
  }

  /**
   * Refuses a count option ({@code --count N}) whose work holds {@code arrays.length} float32 arrays
   * of {@code count} x {@code valuesPerItem} at once ({@code what} names them, {@code arrays} says
   * which they are): 100 million samples stopped on "integer overflow" (exit code 3), 100 million
   * pairs crashed the JVM in native code. Two bounds, checked before anything is allocated: the
   * memory this process may use ({@link Memory#limit}: physical memory or the cgroup's limit, which
   * ND4J's native arrays, outside the Java heap, are bounded by), and one array's values, as ND4J
   * arrays are filled and read from Java through int-indexed arrays and buffers (Init's fill of the
   * sampled z).
   */
  static void checkCountFits(String option, long count, long valuesPerItem, String what, String... arrays) {
    checkCountFits(option, count, valuesPerItem, what, arrays, Memory.limit());
  }

  /** {@link #checkCountFits(String, long, long, String, String...)} for arrays of float64 values. */
  static void checkCountFitsFloat64(String option, long count, long valuesPerItem, String what, String... arrays) {
    checkCountFits(option, count, valuesPerItem, Double.BYTES, what, arrays, Memory.limit());
  }

  static void checkCountFits(String option, long count, long valuesPerItem, String what, String[] arrays,
      Memory.Limit limit) {
    checkCountFits(option, count, valuesPerItem, Float.BYTES, what, arrays, limit);
  }

  private static void checkCountFits(String option, long count, long valuesPerItem, int bytes, String what,
      String[] arrays, Memory.Limit limit) {
    String shape = count + " x " + valuesPerItem;
    limit.check(option + " " + count + ": " + what, (double) arrays.length * count * valuesPerItem * bytes,
        " (" + arrays.length + (bytes == Double.BYTES ? " float64" : " float32") + " arrays of " + shape + " values: "
            + String.join(", ", arrays) + ")");
    if ((double) count * valuesPerItem > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s %d: %s would be arrays of %s ="
          + " %.3g values, more than one array here can hold (%d)", option, count, what, shape,
          (double) count * valuesPerItem, Integer.MAX_VALUE));
    }
  }

  /**
   * Whether {@code option} was typed on the command line (not its default): an option that does not
   * apply to the rest of the command is refused, or said, only when the user gave it.
   */
  static boolean typed(picocli.CommandLine.Model.CommandSpec spec, String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  /**
   * Refuses a comma-separated option given no entries: picocli parses {@code --eps ,} to an empty
   * list, which commands otherwise took for a short one (an attack ran epsilon 0 alone).
   */
  static void given(String option, int entries, String what) {
    if (entries == 0) throw new IllegalArgumentException(option + ": no " + what + " given");
  }

  /**
   * Refuses an output directory in a checkpoint or in a run's checkpoints/, which training
   * replaces and deletes whole: a report written into checkpoints/best went at the run's next save.
   */
  static void refuseInCheckpoints(java.nio.file.Path dir) {
    java.nio.file.Path c = org.irevnet.train.Checkpoints.enclosing(dir);
    if (c != null) {
      String kind = c.getFileName().toString().equals("checkpoints") ? "a run's checkpoints directory" : "a checkpoint";
      String where = c.equals(org.irevnet.io.AtomicFiles.realLocation(dir)) ? " is " + kind : " is inside " + c + ", " + kind;
      throw new IllegalArgumentException(dir + where + ", which training replaces whole: choose another directory");
    }
  }

  /**
   * Whether {@code dir} is a run directory as the report reads one: it has a config.json (a trained
   * run, or a model zip's analysis directory, which has no checkpoint).
   */
  static boolean isRun(java.nio.file.Path dir) {
    return java.nio.file.Files.isRegularFile(dir.resolve(org.irevnet.train.Trainer.CONFIG));
  }

  /**
   * Refuses {@code --out} when it is the {@code analysis/} of a run (a directory with a config.json,
   * a model zip's analysis directory too): that run's report reads what is there as the run's own
   * results, so a report or a run written there came back as the run's "other results". Also
   * through a link of another name to it.
   */
  static void refuseRunsAnalysis(java.nio.file.Path out, String what) {
    java.nio.file.Path dir = org.irevnet.io.AtomicFiles.realLocation(out), run = dir.getParent();
    if (run != null && dir.getFileName().toString().equals("analysis") && isRun(run)) {
      throw new IllegalArgumentException("--out " + out + " is the analysis directory of the run " + run
          + ", whose report would show " + what + " as that run's own results: give another directory");
    }
  }

  /**
   * Refuses {@code --out} when it is a run directory itself (also through a link): an analysis's
   * results were written beside its config.json, where that run's report never looks.
   */
  static void refuseRunDirectory(java.nio.file.Path out) {
    if (isRun(org.irevnet.io.AtomicFiles.realLocation(out))) {
      throw new IllegalArgumentException("--out " + out + " is a run directory, whose report reads results from its"
          + " analysis/ only: leave --out out for RUN_DIR/analysis, or give another directory");
    }
  }

  /** {@link #refuseRunsAnalysis}, but for {@code ownRun}'s own analysis/, where its results belong. */
  static void refuseOtherRunsAnalysis(java.nio.file.Path out, java.nio.file.Path ownRun, String what) {
    if (!org.irevnet.data.Datasets.sameDirectory(out, ownRun.resolve("analysis"))) refuseRunsAnalysis(out, what);
  }

  /**
   * Refuses {@code dir} when it holds one of {@code files}, the results of an earlier run, unless
   * {@code fresh} (--fresh): as train and quickstart do, results are replaced only when asked.
   */
  static void refuseEarlierResults(java.nio.file.Path dir, boolean fresh, String... files) {
    if (fresh) return;
    for (String f : files) {
      if (java.nio.file.Files.exists(dir.resolve(f), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        throw new IllegalArgumentException(dir + " already holds the results of a run (" + f + "): pass --fresh to"
            + " replace them, or choose another --out");
      }
    }
  }

  /**
   * Takes the lock of {@code dir} (train's, {@code .NAME.lock} beside it), then {@link
   * #refuseEarlierResults}, for a command that writes its results there at the end of its work: two
   * such commands into one --out at once each found no earlier results, and the later replaced the
   * other's without --fresh (or both ran --fresh, and one's minutes went for nothing). The second is
   * refused, naming the first; the caller holds the lock until its results are written. A
   * {@code dir} that cannot be made or written is refused first ({@link org.irevnet.io.RunLock#acquire} checks it),
   * before the work whose results would have nowhere to go.
   */
  static org.irevnet.io.RunLock writingResults(java.nio.file.Path dir, boolean fresh, String... files)
      throws java.io.IOException {
    org.irevnet.io.RunLock lock = org.irevnet.io.RunLock.acquire(dir, "written", "wait for it to end, or choose another --out");
    try {
      refuseEarlierResults(dir, fresh, files);
      return lock;
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * Sizes libnd4j's pool from {@code threads} (a {@code --threads} as parsed; null: not given)
   * before the command loads ND4J, as bin/irevnet's OMP_NUM_THREADS does: the pool is fixed when it
   * loads, and {@code java -jar ... --threads 1} on 2 cores recorded 2 threads in config.json and said
   * that {@code --threads} did not reach the pool. A count {@link #apply} refuses is left for it to refuse.
   */
  static void sizePool(Integer threads) {
    if (threads != null && threads >= 1 && threads <= MAX_THREADS) org.irevnet.host.Host.setThreadsBeforeLoading(threads);
  }

  /**
   * Applies the thread count; call before any work. An explicit {@code --threads} that libnd4j's
   * pool does not have is said: the pool is sized from OMP_NUM_THREADS at start-up, which
   * bin/irevnet sets from {@code --threads}, and {@link #sizePool} too when ND4J was not yet loaded.
   */
  void apply() {
    // bin/irevnet gives OpenMP --threads at start-up: 10,000 threads crashed libgomp at the first
    // parallel op (a segmentation fault, nothing on stderr); refused here before any op runs.
    if (threads != null && threads > MAX_THREADS) {
      throw new IllegalArgumentException("--threads must be at most " + MAX_THREADS + ", got " + threads);
    }
    // Without --threads, BLAS takes the pool's count, which OpenMP keeps: what ND4J took from
    // OMP_NUM_THREADS (a user's, or the launcher's), else every core. All cores for BLAS alone gave
    // OMP_NUM_THREADS=1 runs two counts at once, and config.json recorded neither.
    int t = threads != null ? threads : org.irevnet.host.Host.threads();
    org.irevnet.host.Host.setThreads(t);
    if (threads != null) org.irevnet.host.Host.setOpenMpThreads(t);
    int pool = org.irevnet.host.Host.threads();
    if (threads != null && pool != t) {
      System.err.println("--threads " + t + " sets BLAS's threads, but ND4J's pool keeps the " + pool
          + " that OMP_NUM_THREADS gave it at start-up: run through bin/irevnet, which sets it from --threads,"
          + " or set OMP_NUM_THREADS=" + t);
    }
    // A hint for a person at a terminal: a training at the default thread count on a busy machine
    // ran 8.6x slower than at --threads 1 and said nothing. Scripts and tests see no terminal.
    if (System.console() != null) {
      String hint = busyMachineHint(loadAverage(), java.lang.Runtime.getRuntime().availableProcessors(), threads, pool);
      if (hint != null) System.err.println(hint);
    }
  }

  /** The system's load average over the last minute; negative where it cannot be read. */
  static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /**
   * What to say when the machine's load average {@code load} is at least its {@code cores} and the
   * thread count was left to its default ({@code threads} null) at more than one thread: null
   * otherwise (also when the load is unknown, negative).
   */
  static String busyMachineHint(double load, int cores, Integer threads, int pool) {
    if (threads != null || pool <= 1 || load < cores) return null;
    return String.format(java.util.Locale.ROOT, "irevnet: the load average is %.1f on %d cores: with other work"
        + " running, --threads 1 can be several times faster (OpenMP's %d threads spin-wait on busy cores)", load,
        cores, pool);
  }
}
