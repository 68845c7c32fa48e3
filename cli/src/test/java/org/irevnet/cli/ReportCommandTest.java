package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code report} on run directories (hand-made: training one is not what this tests) and on bad input. */
class ReportCommandTest {

  private static Path runDir(Path dir, String objective) throws Exception {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), "{\"config\": {\"arch\": \"fi-revnet-s\", \"objective\": \""
        + objective + "\"}, \"environment\": {\"java\": \"17\"}}");
    Files.writeString(dir.resolve("eval-test.json"), "{\"accuracy\": 0.5, \"loss\": 1.0, \"split\": \"test\","
        + " \"class_names\": [\"a\", \"b\"], \"per_class_accuracy\": [0.5, 0.5], \"confusion_matrix\": [[1, 1], [1, 1]]}");
    return dir;
  }

  @Test
  void writesTheReportIntoTheRunOrIntoOutForAComparison(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce"), ice = runDir(tmp.resolve("ice"), "ice");
    MainTest.Run one = run("report", ce.toString());
    assertThat(one.code()).as(one.err()).isZero();
    assertThat(one.out()).contains(ce.resolve("report.html").toString())
        .contains("ce  ok: config, accuracy  not_run: training, invertibility, probes");
    assertThat(Files.readString(ce.resolve("report.html"))).contains("Accuracy and confusion matrix");

    Path out = tmp.resolve("cmp");
    MainTest.Run two = run("report", ce.toString(), ice.toString(), "--out", out.toString());
    assertThat(two.code()).as(two.err()).isZero();
    JsonNode j = Json.MAPPER.readTree(out.resolve("report.json").toFile());
    assertThat(j.get("schemaVersion").asInt()).isEqualTo(1);
    assertThat(j.get("headline").get("columns").toString()).isEqualTo("[\"\",\"ce\",\"ice\"]");
    assertThat(out.resolve("report.html")).exists();
  }

  @Test
  void badInputIsOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce");
    for (String[] args : new String[][] {{"report", tmp.resolve("missing").toString()}, {"report", tmp.toString()},
        {"report", ce.toString(), ce.toString()}}) {
      MainTest.Run r = run(args);
      assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
      assertThat(r.err()).startsWith("irevnet report: ");
    }
    assertThat(run("report", tmp.toString()).err()).contains("not a run directory");
    // A model zip no analysis was made for: the zip is named, and what makes its analysis directory.
    Path zip = Files.writeString(tmp.resolve("mine.zip"), "zip");
    MainTest.Run unanalysed = run("report", zip.toString());
    assertThat(unanalysed.code()).isEqualTo(2);
    assertThat(unanalysed.err().strip()).isEqualTo("irevnet report: " + zip + ": not analysed yet (no "
        + tmp.resolve("mine-analysis").toAbsolutePath() + "; eval, probe or attack --model " + zip + " --data DATA makes it)");
    assertThat(run("report").code()).isEqualTo(2);
    // A baseline's checkpoint zip: eval, probe and attack refuse it as --model, so the report names its run.
    Path best = Files.createDirectories(ce.resolve("checkpoints/best"));
    Files.writeString(best.resolve("manifest.json"), "{}");
    Files.writeString(best.resolve("training.json"), "{}");
    Path baselineZip = Files.writeString(best.resolve("model.zip"), "zip");
    MainTest.Run checkpointZip = run("report", baselineZip.toString());
    assertThat(checkpointZip.code()).isEqualTo(2);
    assertThat(checkpointZip.err().strip()).isEqualTo("irevnet report: " + baselineZip + " lies in "
        + best.toAbsolutePath().normalize() + ", a run's checkpoints: report the run, " + ce.toAbsolutePath().normalize()
        + ", whose analyses are made with --run");

    // With several runs the message must say whose config.json it is.
    Path ice = runDir(tmp.resolve("ice"), "ice"), out = tmp.resolve("cmp");
    Files.writeString(ice.resolve("config.json"), "[1,2,3]");
    MainTest.Run r = run("report", ce.toString(), ice.toString(), "--out", out.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet report: " + ice.resolve("config.json") + ": not a JSON object");
    assertThat(out.resolve("report.html")).doesNotExist();
    assertThat(out.resolve("report.json")).doesNotExist();
  }

  /**
   * One run given twice (by two spellings of its path) made two identical columns; --out in
   * another run's directory replaced that run's report with one of other runs. Both are refused,
   * writing nothing; --out in a run the report shows is its own report.
   */
  @Test
  void aRunGivenTwiceOrAnotherRunsDirectoryAsOutIsRefused(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce"), ice = runDir(tmp.resolve("ice"), "ice"), out = tmp.resolve("cmp");
    MainTest.Run twice = run("report", ce.toString(), tmp.resolve("ice/../ce/").toString(), "--out", out.toString());
    assertThat(twice.code()).isEqualTo(2);
    assertThat(twice.err().strip()).isEqualTo("irevnet report: " + tmp.resolve("ice/../ce/") + ": the same run as " + ce
        + ", given twice");
    MainTest.Run into = run("report", ce.toString(), "--out", ice.toString());
    assertThat(into.code()).isEqualTo(2);
    assertThat(into.err().strip()).isEqualTo("irevnet report: --out " + ice + " is the directory of a run this report"
        + " does not show; give another directory");
    assertThat(out).doesNotExist();
    assertThat(ice.resolve("report.html")).doesNotExist();
    MainTest.Run own = run("report", ce.toString(), ice.toString(), "--out", ice.toString());
    assertThat(own.code()).as(own.err()).isZero();
    assertThat(ice.resolve("report.html")).exists();
  }

  /**
   * A comparison written into a run's analysis/ (the run's own among those shown) came back in that
   * run's next report as an "Other results" section: the other run's numbers shown as this run's.
   */
  @Test
  void aReportIsNotWrittenIntoARunsAnalysisDirectory(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce"), ice = runDir(tmp.resolve("ice"), "ice");
    Path analysis = ce.resolve("analysis");
    Files.createDirectories(analysis);
    MainTest.Run r = run("report", ce.toString(), ice.toString(), "--out", analysis.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet report: --out " + analysis + " is the analysis directory of the run "
        + ce + ", whose report would show this report's numbers as that run's own results: give another directory");
    try (var files = Files.list(analysis)) {
      assertThat(files).isEmpty();
    }
    MainTest.Run after = run("report", ce.toString());
    assertThat(after.code()).as(after.err()).isZero();
    assertThat(after.out()).doesNotContain("other");
  }

  /**
   * A symbolic link of another name to a run's checkpoints/ or analysis/ is refused as --out as the
   * directory itself is: the checks read the name as given, so the report went into the run's
   * checkpoints/ (which training replaces whole) and into another run's analysis/ (whose report then
   * showed this one's numbers as its own), as did every analysis command's --out.
   */
  @Test
  void aLinkOfAnotherNameToARunsCheckpointsOrAnalysisIsRefusedAsOut(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce"), ice = runDir(tmp.resolve("ice"), "ice");
    Path best = Files.createDirectories(ce.resolve("checkpoints/best"));
    Files.writeString(best.resolve("manifest.json"), "{}");
    Files.writeString(best.resolve("training.json"), "{}");
    Path analysis = Files.createDirectories(ce.resolve("analysis"));
    Path toCheckpoints = Files.createSymbolicLink(tmp.resolve("kept"), ce.resolve("checkpoints"));
    Path toAnalysis = Files.createSymbolicLink(tmp.resolve("results"), analysis);
    MainTest.assertRefused(List.of("report", ice.toString(), "--out", toCheckpoints.toString()),
        toCheckpoints + " is a run's checkpoints directory, which training replaces whole: choose another directory");
    MainTest.assertRefused(List.of("report", ice.toString(), "--out", toCheckpoints.resolve("mine").toString()),
        toCheckpoints.resolve("mine") + " is inside " + ce.resolve("checkpoints") + ", a run's checkpoints directory,"
            + " which training replaces whole: choose another directory");
    MainTest.assertRefused(List.of("report", ce.toString(), ice.toString(), "--out", toAnalysis.toString()),
        "--out " + toAnalysis + " is the analysis directory of the run " + ce + ", whose report would show this"
            + " report's numbers as that run's own results: give another directory");
    try (var files = Files.list(analysis)) {
      assertThat(files).isEmpty();
    }
    try (var files = Files.list(ce.resolve("checkpoints"))) {
      assertThat(files.map(f -> f.getFileName().toString())).containsExactly("best");
    }
  }

  @Test
  void aDamagedFileMarksItsSectionAndSaysSoOnStderrButTheReportIsWritten(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce");
    Files.writeString(ce.resolve("metrics.jsonl"), "{\"type\":\"train\",\"step\":1,\"loss\":2.0}\nNaN\n"
        + "{\"type\":\"train\",\"step\":2,\"loss\":1.5}\n");
    Files.writeString(ce.resolve("eval-test.json"), "{\"accuracy\": \"high\"}");
    MainTest.Run r = run("report", ce.toString());
    // Exit 0 as for any unreadable file: the README promises a damaged section does not fail the report.
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("error: training, accuracy");
    List<String> err = r.err().lines().toList();
    assertThat(err).hasSize(2);
    assertThat(err.get(0)).startsWith("irevnet report: " + ce + ": section training: metrics.jsonl: line 2, column 4:"
        + " Non-standard token 'NaN'");
    assertThat(err.get(1))
        .isEqualTo("irevnet report: " + ce + ": section accuracy: eval-test.json: accuracy is \"high\", not a number");
    assertThat(Files.readString(ce.resolve("report.html"))).contains("eval-test.json: accuracy is");
  }

  /**
   * report.json and report.html are one result: when the second cannot be written, the first keeps
   * its earlier content (it was once replaced, beside the old HTML), and the error names the file.
   */
  @Test
  void aReportThatCannotBeWrittenWholeReplacesNeitherFile(@TempDir Path tmp) throws Exception {
    Path ce = runDir(tmp.resolve("ce"), "ce");
    Files.writeString(ce.resolve("report.json"), "{\"earlier\": true}");
    Files.createDirectories(ce.resolve("report.html"));
    Files.writeString(ce.resolve("report.html/keep.txt"), "not the report's");
    MainTest.Run r = run("report", ce.toString());
    assertThat(ce.resolve("report.json")).hasContent("{\"earlier\": true}");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).isEqualTo("irevnet report: " + ce.resolve("report.html") + ": is a directory");
    assertThat(ce.resolve("report.html/keep.txt")).hasContent("not the report's");
    try (var s = Files.list(ce)) {
      assertThat(s.map(f -> f.getFileName().toString()).sorted().toList())
          .containsExactly("config.json", "eval-test.json", "report.html", "report.json");
    }
  }
}
