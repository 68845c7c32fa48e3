package org.irevnet.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.host.Host;
import org.irevnet.models.Architecture;
import org.irevnet.settings.Ranges;
import org.irevnet.train.Benchmark;
import org.irevnet.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
    header = "Measure training speed, inversion speed and error, and peak memory; one JSON line.",
    description = {
        "Times Adam training steps (forward, cross-entropy on the logits, reversible backward,",
        "update) on 28x28 images zero-padded to 32x32, then a forward and an inverse pass, and",
        "prints one JSON line: arch, batch, threads, params, train_step_ms, train_images_per_s,",
        "forward_ms, inverse_ms, recon_max_abs_err_f32, recon_max_abs_err_f64, peak_rss_mib",
        "(medians over the timed steps; the peak is each step's own resident peak),",
        "process_peak_rss_mib (the process's, start-up and warm-up included), param_state_mib",
        "(parameters and Adam's two moments) and working_rss_mib (the rest of peak_rss_mib,",
        "what reversibility keeps flat in depth), native_in_use_mib and",
        "native_free_mib (glibc's native heap after the timed steps: held by the process, and freed",
        "but kept by glibc, which varies from run to run), backward and stored_activation_mib (with",
        "--backward stored: the couplings' activations kept), steps and warmup (the reconstruction",
        "errors are measured after the timed steps' updates).",
        "",
        "With --backward both: --rounds rounds of --steps steps of each backward pass, alternating",
        "in this process, then one line with both medians and stored_reversible_ratio; its schedule",
        "as run: warmup_steps_reversible and warmup_steps_stored (the warm-up alternates, reversible",
        "first) and passes_by_round (each round's two passes in the order they ran).",
        "",
        "With --peer CMD (e.g. --peer '/usr/bin/python3 ../shared/bench/torch_fi_revnet.py', the",
        "PyTorch twin): --rounds alternating runs of this benchmark and of CMD (with --threads,",
        "--steps, --batch and --warmup appended), each in a fresh process; prints every JSON line as",
        "it is measured, then a summary line with the medians of both sides and ours/peer ratios",
        "of train_step_ms, forward_ms, inverse_ms and peak_rss_mib (ours: process_peak_rss_mib,",
        "the whole process's, as the twin measures its own).",
        "",
        "With --depth-curve K,K,...: --rounds rounds of one run per depth multiplier, each in a",
        "fresh process (odd rounds in reverse order); prints every JSON line as it is measured, then",
        "a summary line: per depth the medians of peak_rss_mib, process_peak_rss_mib,",
        "param_state_mib, working_rss_mib, train_step_ms, native_in_use_mib and native_free_mib,",
        "a least-squares line of each in K (_per_depth_mult, _at_depth_mult_0), and",
        "peak_rss_mib_ratio, process_peak_rss_mib_ratio and working_rss_mib_ratio (median at the",
        "largest K over the smallest), and peak_rss_mib_ratio_by_round (each round's own pair).",
        "",
        "With --blocks: JMH benchmarks of one step (ActNorm, permutation, coupling) of every stage",
        "at --batch: forward, inverse and reversible backward, --iterations measured iterations of",
        "1 s after --warmup-iterations unmeasured ones (--steps and --warmup do not apply); prints",
        "a JSON line per stage (stage counted from 0; layer, its name as attack's --layer and",
        "probe take it: stage0, stage1, ...) with the step's blocks (by class), the times (ms per call)",
        "and the ratios backward/forward and inverse/forward, then one line summing each over the",
        "architecture's steps. JMH's own report goes to stderr."})
final class BenchCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--arch", defaultValue = "fi-revnet-s", description = "Architecture name or JSON file (default: ${DEFAULT-VALUE}).")
  String arch;

  @Option(names = "--batch", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--steps", defaultValue = "10", description = "Timed training steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "30",
      description = "Untimed steps first, at learning rate 0, while the JVM compiles the hot paths (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--depth-mult", defaultValue = "1", paramLabel = "K",
      description = "Multiply the steps per stage by K (memory-versus-depth curve; default: ${DEFAULT-VALUE}).")
  int depthMult;

  @Option(names = "--depth-curve", split = ",", paramLabel = "K,K,...",
      description = "Memory and time against depth: one fresh process per multiplier and round, then medians and a line in K.")
  int[] depthCurve;

  @Option(names = "--backward", defaultValue = "reversible", paramLabel = "reversible|stored|both",
      completionCandidates = Choices.BenchBackward.class,
      description = "Backward pass of the timed steps: reversible (rebuilds activations, memory flat in depth;"
          + " the default) or stored (keeps the couplings' conditioner activations: faster, memory grows"
          + " with depth); both: --rounds rounds of --steps steps of each, alternating in this process,"
          + " and one line with both medians and their ratio.")
  String backward;

  @Option(names = "--peer", paramLabel = "CMD",
      description = "Another implementation's benchmark command to compare with, in alternating rounds.")
  String peer;

  @Option(names = "--rounds", defaultValue = "3",
      description = "Rounds of each side with --peer, --backward both or --depth-curve (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--blocks", description = "JMH benchmarks of one step of every stage instead of whole training steps.")
  boolean blocks;

  @Option(names = "--forks", defaultValue = "1",
      description = "With --blocks: JVMs JMH forks per benchmark, 0 to run in this one (default: ${DEFAULT-VALUE}).")
  int forks;

  @Option(names = "--iterations", defaultValue = "5",
      description = "With --blocks: measured iterations of 1 s each, after the warm-up ones (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--warmup-iterations", defaultValue = "5",
      description = "With --blocks: unmeasured iterations of 1 s each first (default: ${DEFAULT-VALUE}).")
  int warmupIterations;

  @Override
  public Integer call() throws Exception {
    CommonOptions.positive("--batch", batch);
    CommonOptions.positive("--steps", steps);
    CommonOptions.positive("--depth-mult", depthMult);
    Ranges.atLeast("--warmup", warmup, 0);
    Ranges.oneOf("--backward", backward, Choices.BENCH_BACKWARDS);
    boolean both = "both".equals(backward);
    boolean stored = !both && TrainConfig.storesActivations(backward);
    if (blocks && (peer != null || depthMult != 1 || !"reversible".equals(backward))) {
      throw new IllegalArgumentException("--blocks takes neither --peer, --depth-mult nor --backward");
    }
    // An option the mode does not read is refused, as attack's and invert's are: --iterations 3
    // without --blocks, --steps 5 with it, and --rounds 5 of a single run ran as if not given.
    for (String o : List.of("--forks", "--iterations", "--warmup-iterations")) {
      if (!blocks && CommonOptions.typed(spec, o)) throw new IllegalArgumentException(o + " applies to --blocks only");
    }
    for (String o : List.of("--steps", "--warmup")) {
      if (blocks && CommonOptions.typed(spec, o)) {
        throw new IllegalArgumentException(o + " does not apply to --blocks (it times iterations of 1 s: --iterations"
            + " and --warmup-iterations)");
      }
    }
    if (CommonOptions.typed(spec, "--rounds") && depthCurve == null && !both && peer == null) {
      throw new IllegalArgumentException("--rounds applies to --peer, --backward both and --depth-curve only");
    }
    if (depthCurve != null || both || peer != null) CommonOptions.positive("--rounds", rounds);
    // The steps are counted in an int: --warmup 2147483647 wrapped round, ran no step and printed
    // a step of 0 ms (exit code 0); --backward both's rounds x steps stopped on a negative array size.
    long total = (long) warmup + (both ? 2L * rounds * steps : steps);
    if (!blocks && total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--warmup " + warmup + (both ? " and " + rounds + " rounds of two passes of" : " and")
          + " --steps " + steps + " make " + total + " steps, more than the " + Integer.MAX_VALUE + " a run can count");
    }
    Architecture loaded = Architecture.load(arch);
    // The optimiser's set-up stopped on it with "java.util.NoSuchElementException" (exit code 3).
    if (!blocks) loaded.requireParameters("--arch ");
    // A batch that cannot be held crashed the JVM in native code (SIGSEGV, exit code 134) as the
    // images were allocated: refused here, for every mode, before a child process or JMH starts.
    CommonOptions.checkCountFits("--batch", batch, loaded.inputDims(), "the benchmark's arrays", "the images",
        "their encoding", "its inverse");
    if (depthCurve != null) return depthCurve(both);
    if (both) return compareBackward();
    if (peer != null) return comparePeer();
    common.apply();
    if (blocks) {
      Ranges.atLeast("--forks", forks, 0);
      CommonOptions.positive("--iterations", iterations);
      Ranges.atLeast("--warmup-iterations", warmupIterations, 0);
      for (Map<String, Object> line : BlockBenchmarks.run(arch, batch, Host.threads(),
          new BlockBenchmarks.Settings(forks, warmupIterations, iterations, 1000), !common.noProgress)) {
        System.out.println(Json.line(line));
      }
      return 0;
    }
    Architecture a = Architecture.load(arch);
    StatusLine status = new StatusLine(!common.noProgress);
    Benchmark.Result r = Benchmark.run(a, batch, steps, warmup, depthMult, stored,
        i -> status.update(i + 1, warmup + steps, "bench: step " + (i + 1) + "/" + (warmup + steps)));
    status.end();
    System.out.println(Json.line(r));
    return 0;
  }

  private int compareBackward() {
    if (peer != null) throw new IllegalArgumentException("--backward both takes no --peer");
    common.apply();
    int total = warmup + 2 * rounds * steps;
    StatusLine status = new StatusLine(!common.noProgress);
    Benchmark.BackwardComparison c = Benchmark.compareBackward(Architecture.load(arch), batch, steps, warmup,
        depthMult, rounds, i -> status.update(i + 1, total, "bench: step " + (i + 1) + "/" + total));
    status.end();
    System.out.println(Json.line(c));
    return 0;
  }

  private int depthCurve(boolean both) throws Exception {
    if (peer != null || blocks || both || depthMult != 1) {
      throw new IllegalArgumentException("--depth-curve takes neither --peer, --blocks, --backward both nor --depth-mult");
    }
    if (depthCurve.length < 2 || Arrays.stream(depthCurve).distinct().count() != depthCurve.length
        || Arrays.stream(depthCurve).anyMatch(k -> k < 1)) {
      throw new IllegalArgumentException("--depth-curve needs two or more distinct multipliers >= 1, got "
          + Arrays.toString(depthCurve));
    }
    // A wrong name, or a multiplier too deep for it (more than 1000 steps a stage, or too large for
    // memory), fails here with its message, not in a child process after the runs before it.
    Architecture a = Architecture.load(arch);
    for (int k : depthCurve) a.withDepthMultiplier(k);
    Map<String, Object> summary = DepthCurve.run(depthCurve, rounds, this::childBench, printing(rounds * depthCurve.length));
    System.out.println(Json.line(summary));
    return 0;
  }

  /**
   * The threads a child benchmark and the peer run with: --threads, else this process's pool (all
   * cores unless OMP_NUM_THREADS said otherwise), so that both sides of a comparison have the same.
   */
  int childThreads() {
    return common.threads != null ? common.threads : Host.threads();
  }

  /** This benchmark in a child process, at depth multiplier {@code k}. */
  ProcessBuilder childBench(int k) {
    return PeerComparison.ourProcess(List.of("bench", "--arch", arch, "--batch", "" + batch, "--steps", "" + steps,
        "--warmup", "" + warmup, "--threads", "" + childThreads(), "--backward", backward, "--depth-mult", "" + k,
        "--no-progress"), childThreads());
  }

  /** Prints each child's JSON line as it comes, and the progress of {@code total} runs on stderr. */
  java.util.function.Consumer<String> printing(int total) {
    int[] done = {0};
    return line -> {
      System.out.println(line);
      if (!common.noProgress) System.err.printf("bench: %d of %d runs done%n", ++done[0], total);
    };
  }

  private int comparePeer() throws Exception {
    if (peer.isBlank()) throw new IllegalArgumentException("--peer needs a command");
    if (depthMult != 1) throw new IllegalArgumentException("--peer compares at --depth-mult 1 only (the PyTorch twin has no depth option)");
    Architecture.load(arch); // as for --depth-curve: a wrong name fails here, not as our child's failed run
    PeerComparison.checkCommand(peer);
    List<String> theirs = List.of("--threads", "" + childThreads(), "--steps", "" + steps, "--batch", "" + batch,
        "--warmup", "" + warmup);
    Map<String, Object> summary = PeerComparison.run(childBench(1), peer, theirs, rounds, printing(2 * rounds));
    System.out.println(Json.line(summary));
    return 0;
  }
}
