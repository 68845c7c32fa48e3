package org.irevnet.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.irevnet.reports.Report;
import org.irevnet.reports.Section;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "report", mixinStandardHelpOptions = true,
    header = "report.json and a self-contained report.html of one run, or a side-by-side comparison of several.",
    description = "Renders every section whose files exist in the run directories (training curves, accuracy,"
        + " invertibility, probes, nuisance probe, metamers, interpolation, samples, attacks; a VAE run's vae.json;"
        + " any other JSON or PNG in analysis/) and marks the others 'not run', or 'not applicable' where the model"
        + " cannot have them. Several runs also get a comparison on shared axes: per-layer probe curves by relative depth"
        + " and the feature-matching attacks side by side. The HTML embeds its images and charts and fetches nothing.")
final class ReportCommand implements Callable<Integer> {
  @Mixin CommonOptions common;

  @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "Run directories made by train, or DL4J model"
      + " zips analysed with --model (their analysis directories are read).")
  List<Path> runs;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Output directory (default: the run directory; required with several runs).")
  Path out;

  @Override
  public Integer call() throws Exception {
    // No common.apply(): a report reads JSON and PNG files only, it never starts ND4J.
    if (out == null && runs.size() > 1) throw new IllegalArgumentException("several runs need --out DIR");
    List<Path> dirs = runs.stream().map(p -> java.nio.file.Files.isRegularFile(p) && p.toString().endsWith(".zip")
        ? RunOptions.modelRunDir(p) : p).toList();
    for (int i = 0; i < runs.size(); i++) {
      // "NAME-analysis: no such run directory" named a directory the user never gave.
      // A baseline's checkpoint zip: the --model commands named refuse it (its analysis directory
      // would lie in the checkpoint); its run is what has its report.
      Path checkpoint = dirs.get(i).equals(runs.get(i)) ? null : org.irevnet.train.Checkpoints.enclosing(dirs.get(i));
      if (checkpoint != null) {
        Path run = RunOptions.runHolding(checkpoint);
        throw new IllegalArgumentException(runs.get(i) + " lies in " + checkpoint + ", a run's checkpoints: report the run"
            + (run != null ? ", " + run : " directory") + ", whose analyses are made with --run");
      }
      if (!dirs.get(i).equals(runs.get(i)) && !java.nio.file.Files.isDirectory(dirs.get(i))) {
        throw new IllegalArgumentException(runs.get(i) + ": not analysed yet (no " + dirs.get(i) + "; eval, probe or"
            + " attack --model " + runs.get(i) + " --data DATA makes it)");
      }
    }
    List<Path> same = dirs.stream().map(ReportCommand::identity).toList();
    for (int i = 0; i < same.size(); i++) {
      int first = same.indexOf(same.get(i));
      if (first < i) throw new IllegalArgumentException(runs.get(i) + ": the same run as " + runs.get(first) + ", given twice");
    }
    // Another run's report.html would be replaced by one that shows these runs.
    if (out != null && CommonOptions.isRun(out) && !same.contains(identity(out))) {
      throw new IllegalArgumentException("--out " + out + " is the directory of a run this report does not show;"
          + " give another directory");
    }
    if (out != null) {
      CommonOptions.refuseInCheckpoints(out);
      CommonOptions.refuseRunsAnalysis(out, "this report's numbers");
    }
    Report r = Report.of(dirs);
    Path dir = out != null ? out : dirs.get(0);
    r.write(dir);
    for (Report.Run run : r.runs()) {
      StringBuilder line = new StringBuilder(run.name());
      for (String status : List.of(Section.OK, Section.NOT_RUN, Section.NOT_APPLICABLE, Section.ERROR, Section.FAILED)) {
        List<String> ids = run.sections().stream().filter(s -> s.status().equals(status)).map(Section::id).toList();
        if (!ids.isEmpty()) line.append("  ").append(status).append(": ").append(String.join(", ", ids));
      }
      System.out.println(line);
      // A damaged file does not fail the report (its other sections are still worth reading), so
      // say on stderr which file it is: the status line alone would pass unnoticed in a script.
      for (Section s : run.sections()) {
        if (s.status().equals(Section.ERROR)) {
          System.err.println("irevnet report: " + run.path() + ": section " + s.id() + ": " + s.note());
        } else if (s.status().equals(Section.FAILED)) {
          System.err.println("irevnet report: " + run.path() + ": section " + s.id() + ": check failed: " + s.note());
        }
      }
    }
    System.out.println(dir.resolve(Report.HTML));
    System.out.println(dir.resolve(Report.JSON));
    return 0;
  }

  /** What tells two paths of one directory apart from two directories: its real path, when it has one. */
  private static Path identity(Path p) {
    try {
      return p.toRealPath();
    } catch (java.io.IOException e) {
      return p.toAbsolutePath().normalize(); // not there: the report names it
    }
  }
}
