package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.Outcome;

/**
 * {@code quickstart --resume}'s reading of a damaged {@code quickstart.json}, fuzzed: it reads as
 * some finished steps (no checksum: a changed exit code or argument is another step, which then runs
 * again) or is refused in one line naming the file (see {@link Damage#read}).
 */
class DamagedQuickstartRecordTest {
  private static final Path DIR = Damage.directory("damaged-quickstart");

  /** A record as a quickstart stopped in its third step leaves it. */
  private static final String RECORD = Json.pretty(Map.of("complete", false, "seconds", 812.5, "epochs", 1,
      "count", 8, "steps", List.of(
          Map.of("name", "selftest", "args", List.of("selftest"), "exit_code", 0, "seconds", 3.5),
          Map.of("name", "train", "args", List.of("train", "--out", "q/ce", "--epochs", "1", "--fresh"),
              "exit_code", 0, "seconds", 600.25),
          Map.of("name", "invert", "args", List.of("invert", "--run", "q/ce", "--threads", "1"), "exit_code", 1,
              "seconds", 2))));

  @Provide
  Arbitrary<Damaged> records() {
    return Damage.ofText(RECORD);
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedRecordIsReadAsFinishedStepsOrRefused(@ForAll("records") Damaged d) throws Exception {
    Path record = DIR.resolve(QuickstartCommand.RECORD);
    Outcome<Map<List<String>, QuickstartCommand.Step>> o = Damage.read(record, d, record, f -> {
      Map<List<String>, QuickstartCommand.Step> finished = new LinkedHashMap<>();
      QuickstartCommand.finishedSteps(f, Json.read(f, "quickstart record"), finished);
      return finished;
    }, IllegalArgumentException.class, IOException.class);
    if (!o.refused()) assertThat(o.value().size()).isLessThanOrEqualTo(3);
  }
}
