package org.irevnet.reports;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.irevnet.io.AtomicFiles;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.InFile;
import org.irevnet.testing.Damage.Outcome;

/**
 * {@code report} over a run one of whose files is damaged (every JSON, metrics.jsonl and PNG of
 * {@link SyntheticRun#full}), fuzzed. A damaged section file is that section's ERROR, whose note is
 * one line naming the file, and the report is still written and valid against its schema; a damaged
 * config.json fails the report in one line naming it. No file of a run carries a checksum: a changed
 * number is another number in the report.
 */
class DamagedRunFilesTest {
  private static final Path DIR = Damage.directory("damaged-run");

  private static final Path SAVED = saved();
  private static final List<String> FILES = files();
  private static final Schema SCHEMA = schema();

  private static Path saved() {
    try {
      return SyntheticRun.full(DIR.resolve("saved"), "ice", 0.9);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> files() {
    try (Stream<Path> s = Files.walk(SAVED)) {
      return s.filter(Files::isRegularFile).map(p -> SAVED.relativize(p).toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Schema schema() {
    try (InputStream in = Report.class.getResourceAsStream(Report.SCHEMA)) {
      return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<InFile> runFiles() {
    return Arbitraries.of(FILES).flatMap(f -> {
      byte[] bytes = Damage.bytes(SAVED.resolve(f));
      return (f.endsWith(".png") ? Damage.of(bytes, List.of()) : Damage.ofText(new String(bytes, StandardCharsets.UTF_8)))
          .map(d -> new InFile(f, d));
    });
  }

  @Property(tries = 200, seed = "20261206")
  void aRunWithAInFileIsReportedWithThatSectionInError(@ForAll("runFiles") InFile d) throws Exception {
    Path run = DIR.resolve("run");
    AtomicFiles.deleteTree(run);
    for (String f : FILES) {
      Files.createDirectories(run.resolve(f).getParent());
      Files.copy(SAVED.resolve(f), run.resolve(f));
    }
    Path out = DIR.resolve("out");
    Outcome<Report> o = Damage.read(run.resolve(d.file()), d.damaged(), run.resolve(RunFiles.CONFIG), f -> {
      Report r = Report.of(List.of(run));
      r.write(out);
      return r;
    }, IOException.class, IllegalArgumentException.class);
    if (o.refused()) {
      assertThat(d.file()).as(d + " failed the whole report: " + o.refusal().getMessage()).isEqualTo(RunFiles.CONFIG);
      return;
    }
    for (Section s : o.value().runs().get(0).sections()) {
      if (!s.status().equals(Section.ERROR)) continue;
      assertThat(s.note()).as(d + ": section " + s.id()).doesNotContain("\n").contains(Path.of(d.file()).getFileName().toString());
    }
    assertThat(SCHEMA.validate(Files.readString(out.resolve(Report.JSON)), InputFormat.JSON)).as(d.toString()).isEmpty();
  }
}
