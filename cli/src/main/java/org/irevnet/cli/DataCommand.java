package org.irevnet.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.irevnet.data.Shortcut;
import org.irevnet.data.ShortcutDatasets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "data", mixinStandardHelpOptions = true,
    header = "Dataset tools: shortcut datasets.",
    synopsisSubcommandLabel = "COMMAND",
    subcommands = {DataCommand.ShortcutCommand.class})
final class DataCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * The group alone does nothing: an incomplete command line (a script's unset "$SUB"), bad
   * usage, so that the script stops, said as picocli's usage errors are (the whole usage buried
   * the one line that matters). Bare {@code irevnet}, which people type to see what there is,
   * keeps exit code 0.
   */
  @Override
  public Integer call() {
    return Main.usageError(spec.commandLine(), "missing a subcommand: " + String.join(", ", spec.subcommands().keySet()));
  }

  @Command(name = "shortcut", mixinStandardHelpOptions = true,
      header = "Write an IDX dataset whose training images carry a label-predictive shortcut.",
      description = {
          "binary-code: a constant-weight binary code of the label in the top-left",
          "corner; texture: a class-specific texture on the background. Every training",
          "image carries its label's shortcut. Test variants, each a dataset for --data:",
          "OUT/consistent (own label's shortcut; also OUT's own test split),",
          "OUT/randomised (a random wrong label's), OUT/removed (none).",
          "Seeded: the same base, kind and seed give byte-identical files.",
          "See docs/shortcuts.md."})
  static final class ShortcutCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--base", required = true, paramLabel = "DATA",
        description = "Base dataset: anything --data accepts.")
    String base;

    @Option(names = "--kind", required = true, paramLabel = "KIND", completionCandidates = Choices.ShortcutKind.class,
        description = "${COMPLETION-CANDIDATES}.")
    String kind;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed (default 0).")
    long seed;

    @Option(names = "--force", description = "Replace a non-empty output directory.")
    boolean force;

    /**
     * --force replaces a dataset: a run's directory, or one holding runs ({@code --out runs}), was
     * deleted with its checkpoints and a dataset put in its place (vae refuses a run's directory
     * even with --fresh). Looks through all of {@code out}, as replacing it would.
     */
    private static void refuseReplacingRuns(Path out) throws IOException {
      if (!Files.isDirectory(out)) return;
      Optional<Path> run;
      try (Stream<Path> dirs = Files.walk(out)) {
        run = dirs.filter(Files::isDirectory).filter(CommonOptions::isRun).findFirst();
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      if (run.isPresent()) {
        throw new IllegalArgumentException("--out " + out + (run.get().equals(out) ? " is the directory of a run"
            : " holds the run " + run.get()) + ": --force replaces a dataset, never a run; choose another --out");
      }
    }

    @Override
    public Integer call() throws Exception {
      common.apply();
      Shortcut.Kind k = Shortcut.Kind.parse(kind);
      // As every command that writes: the next save of a checkpoint replaces it whole (and a file of
      // ours in it stopped that run's train), and a run's report read a dataset in its analysis/.
      CommonOptions.refuseInCheckpoints(out);
      CommonOptions.refuseRunsAnalysis(out, "this dataset's shortcut.json");
      if (force) refuseReplacingRuns(out);
      long t0 = System.nanoTime();
      ShortcutDatasets.Result r = ShortcutDatasets.generate(base, k, seed, out, force);
      double seconds = (System.nanoTime() - t0) / 1e9;
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> stamped =
          (Map<String, Map<String, Object>>) r.description().get("stamped");
      System.out.printf("%s: %s shortcut (seed %d) on %s: %s train, %s test images per variant"
              + " (consistent, randomised, removed) in %.1f s%n", r.out(), k.id(), seed,
          ((Map<?, ?>) r.description().get("base")).get("name"), r.description().get("train_images"),
          r.description().get("test_images"), seconds);
      int bad = 0;
      for (var e : stamped.entrySet()) {
        int n = ((Number) e.getValue().get("images")).intValue();
        int ok = ((Number) e.getValue().get("decoded_as_stamped")).intValue();
        System.out.printf("  %-10s decodes as stamped: %d of %d%n", e.getKey(), ok, n);
        bad += n - ok;
      }
      if (bad > 0) {
        System.err.println("irevnet data shortcut: " + bad + " images do not decode to the"
            + " shortcut they carry (too little background?); see " + ShortcutDatasets.JSON_FILE);
        return 1;
      }
      return 0;
    }
  }
}
