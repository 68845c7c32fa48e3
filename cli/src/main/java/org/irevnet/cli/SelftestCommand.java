package org.irevnet.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.irevnet.check.SelfTest;
import org.irevnet.io.AtomicFiles;
import org.irevnet.models.Architecture;
import org.irevnet.models.Baselines;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "selftest", mixinStandardHelpOptions = true,
    header = "Check every layer type and bundled architecture: round trips, log-dets, gradients.",
    description = {
        "Runs seeded checks on every layer type (tiny shapes) and every bundled architecture:",
        "max reconstruction error in float32 (<= 1e-5) and float64 (<= 1e-12), log-det against a",
        "brute-force Jacobian (layers) or the inverse's log-det (models), and reversible-backward",
        "gradients against central finite differences in float64 (relative error <= 1e-6).",
        "--arch checks your own architectures instead of the bundled ones.",
        "Exit code 0 only if every row passes."})
final class SelftestCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the table as JSON.")
  Path json;

  @Option(names = "--arch", paramLabel = "NAME|FILE", split = ",", description = "Check these invertible"
      + " architectures (bundled names or JSON files, comma-separated) instead of the bundled ones.")
  List<String> archs;

  @Override
  public Integer call() throws Exception {
    // Found only at the end, a directory here failed the minute-long run naming a temporary file.
    if (json != null && Files.isDirectory(json)) throw new IllegalArgumentException("--json " + json + ": is a directory");
    if (json != null) AtomicFiles.checkCanWrite(json); // nor a directory it cannot be made in
    // "--arch ," (an unset "$ARCHS,") checked the layers alone and passed: refused, as --eps , is.
    if (archs != null) CommonOptions.given("--arch", archs.size(), "architectures");
    // Loaded first: a misspelt file or a baseline failed only after the minute of layer checks.
    List<Architecture> checked = (archs == null ? Architecture.BUNDLED : archs).stream()
        .map(SelftestCommand::invertible).toList();
    common.apply();
    System.out.printf("%-22s %-6s %12s %12s %12s %12s  %s%n", "block", "kind", "recon f32", "recon f64",
        "logdet err", "grad err", "result");
    java.util.function.Consumer<SelfTest.Row> print = r -> {
      System.out.printf("%-22s %-6s %12.2e %12.2e %12.2e %12.2e  %s%n", r.name(), r.kind(), r.reconF32(),
          r.reconF64(), r.logDetErr(), r.gradErr(), r.pass() ? "pass" : "FAIL");
      System.out.flush();
    };
    List<SelfTest.Row> rows = SelfTest.runAll(checked, print);
    long failed = rows.stream().filter(r -> !r.pass()).count();
    System.out.println(failed == 0 ? "all " + rows.size() + " checks passed"
        : failed + " of " + rows.size() + " checks FAILED");
    if (json != null) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("schemaVersion", 1);
      out.put("thresholds", Map.of("recon_f32", SelfTest.RECON_F32, "recon_f64", SelfTest.RECON_F64,
          "logdet", SelfTest.LOGDET, "grad", SelfTest.GRAD));
      out.put("rows", rows);
      out.put("passed", failed == 0);
      AtomicFiles.writeString(json, Json.pretty(out) + "\n");
    }
    return failed == 0 ? 0 : 1;
  }

  private static Architecture invertible(String arch) {
    if (Baselines.isBaseline(arch)) {
      throw new IllegalArgumentException("--arch " + arch + ": a non-invertible baseline has no inverse to check");
    }
    return Architecture.load(arch);
  }
}
