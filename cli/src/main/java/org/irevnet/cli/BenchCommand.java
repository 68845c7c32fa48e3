package org.irevnet.cli;

import java.util.concurrent.Callable;
import org.irevnet.models.Architecture;
import org.irevnet.train.Benchmark;
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
        "(medians), param_state_mib (parameters and Adam's two moments) and working_rss_mib",
        "(the rest of the peak, what reversibility keeps flat in depth). Compare with ../shared/bench/torch_fi_revnet.py on the same machine."})
final class BenchCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--arch", defaultValue = "fi-revnet-s", description = "Architecture name or JSON file (default: ${DEFAULT-VALUE}).")
  String arch;

  @Option(names = "--batch", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--steps", defaultValue = "10", description = "Timed training steps (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "2", description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--depth-mult", defaultValue = "1", paramLabel = "K",
      description = "Multiply the steps per stage by K (memory-versus-depth curve; default: ${DEFAULT-VALUE}).")
  int depthMult;

  @Override
  public Integer call() {
    if (batch < 1 || steps < 1 || warmup < 0 || depthMult < 1) {
      throw new IllegalArgumentException("--batch, --steps and --depth-mult must be >= 1, --warmup >= 0");
    }
    common.apply();
    Architecture a = Architecture.load(arch);
    Benchmark.Result r = Benchmark.run(a, batch, steps, warmup, depthMult, i -> {
      if (!common.noProgress) System.err.printf("\rbench: step %d/%d", i + 1, warmup + steps);
    });
    if (!common.noProgress) System.err.println();
    System.out.println(Json.line(r));
    return 0;
  }
}
