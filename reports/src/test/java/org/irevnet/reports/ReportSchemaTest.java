package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * report.json against report.schema.json (draft 2020-12), for one run, a comparison, a bare run and
 * a VAE run.
 */
class ReportSchemaTest {
  static Schema schema;

  @BeforeAll
  static void load() throws Exception {
    try (InputStream in = Report.class.getResourceAsStream(Report.SCHEMA)) {
      assertThat(in).as(Report.SCHEMA).isNotNull();
      schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
    }
  }

  private static List<Error> validate(Path reportJson) throws Exception {
    return schema.validate(Files.readString(reportJson), InputFormat.JSON);
  }

  @Test
  void reportsOfOneRunAndOfAComparisonValidate(@TempDir Path tmp) throws Exception {
    Path ce = SyntheticRun.full(tmp.resolve("ce"), "ce", 0.97);
    Path bare = SyntheticRun.bare(tmp.resolve("bare"), "ice");
    Report.of(List.of(ce)).write(ce);
    assertThat(validate(ce.resolve(Report.JSON))).isEmpty();
    Path out = tmp.resolve("cmp");
    Report.of(List.of(ce, bare)).write(out);
    assertThat(validate(out.resolve(Report.JSON))).isEmpty();
  }

  /** A run whose files give 95% intervals validates: the robustness curves' lo and hi, the headline's interval rows. */
  @Test
  void aReportWithIntervalsValidates(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    ReportTest.writeSharesOfImages(run, true);
    Report.of(List.of(run)).write(run);
    assertThat(Files.readString(run.resolve(Report.JSON))).contains("\"lo\"").contains("95% interval");
    assertThat(validate(run.resolve(Report.JSON))).isEmpty();
  }

  @Test
  void aReportWhoseConfigSectionIsDamagedValidates(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.bare(tmp.resolve("run"), "ce");
    Files.writeString(run.resolve("config.json"), "{\"config\": [1], \"environment\": 3}");
    Report r = Report.of(List.of(run));
    assertThat(r.runs().get(0).sections()).filteredOn(s -> s.id().equals("config")).singleElement()
        .extracting(Section::status).isEqualTo(Section.ERROR);
    r.write(run);
    assertThat(validate(run.resolve(Report.JSON))).isEmpty();
  }

  /** A section whose analysis records a failed check, and one of other data, validate (status failed, other_data). */
  @Test
  void aFailedSectionAndOneOfOtherDataValidate(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.9);
    Path own = Files.createDirectories(tmp.resolve("data/own")), other = Files.createDirectories(tmp.resolve("data/other"));
    Files.writeString(run.resolve("config.json"), Files.readString(run.resolve("config.json"))
        .replace("fashion-mnist-mini " + SyntheticRun.EVIL, own.toString()));
    Path metamers = run.resolve("analysis/metamers.json");
    Files.writeString(metamers, Files.readString(metamers).replace("\"invariant_holds\" : true", "\"invariant_holds\" : false")
        .replace("/data/synthetic", other.toString()));
    Report r = Report.of(List.of(run));
    assertThat(r.runs().get(0).sections()).filteredOn(s -> s.id().equals("metamers")).singleElement()
        .satisfies(s -> {
          assertThat(s.status()).isEqualTo(Section.FAILED);
          assertThat(s.otherData()).containsKey("analysis/metamers.json");
        });
    r.write(run);
    assertThat(validate(run.resolve(Report.JSON))).isEmpty();
  }

  @Test
  void reportsWithAVaeRunValidate(@TempDir Path tmp) throws Exception {
    Path vae = SyntheticRun.vae(tmp.resolve("vae"));
    Report one = Report.of(List.of(vae));
    // Without its section the run would validate whatever the schema says of "vae".
    assertThat(one.runs().get(0).sections()).filteredOn(s -> s.id().equals("vae")).singleElement()
        .extracting(Section::status).isEqualTo(Section.OK);
    one.write(vae);
    assertThat(validate(vae.resolve(Report.JSON))).isEmpty();
    Path ce = SyntheticRun.full(tmp.resolve("ce"), "ce", 0.9);
    Path out = tmp.resolve("cmp");
    Report.of(List.of(ce, vae)).write(out);
    assertThat(validate(out.resolve(Report.JSON))).isEmpty();
  }

  @Test
  void aComparisonWithADl4jNetworkValidatesAndSaysWhatIsNotApplicable(@TempDir Path tmp) throws Exception {
    Path ce = SyntheticRun.full(tmp.resolve("ce"), "ce", 0.9);
    Path baseline = RunSectionsTest.dl4jRun(tmp.resolve("baseline"), "resnet-s", null);
    Path out = tmp.resolve("cmp");
    Report.of(List.of(ce, baseline)).write(out);
    assertThat(validate(out.resolve(Report.JSON))).isEmpty();
    String html = Files.readString(out.resolve(Report.HTML));
    assertThat(html).contains("Not applicable: resnet-s is a DL4J network, not invertible (bin/irevnet invert needs")
        // The other run has its invert.json: nothing may call the network's invertibility "not run".
        .doesNotContain("Not run: no analysis/invert.json");
  }

  @Test
  void theSchemaRejectsAReportWithoutItsVersionOrWithAnUnknownFigure(@TempDir Path tmp) throws Exception {
    Path run = SyntheticRun.full(tmp.resolve("run"), "ce", 0.5);
    Report.of(List.of(run)).write(run);
    Path json = run.resolve(Report.JSON);
    String text = Files.readString(json);
    Files.writeString(json, text.replace("\"schemaVersion\" : 1", "\"schemaVersion\" : 2"));
    assertThat(validate(json)).isNotEmpty();
    Files.writeString(json, text.replaceFirst("\"kind\" : \"line\"", "\"kind\" : \"pie\""));
    assertThat(validate(json)).isNotEmpty();
  }
}
