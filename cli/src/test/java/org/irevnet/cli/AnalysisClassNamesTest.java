package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.irevnet.cli.MainTest.run;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * metamers, interpolate and attack name the classes of data that has names (here IDX files with a
 * classes.txt) next to their numbers, in the console and the JSON; data without names gets the
 * numbers alone, as before. Every JSON says which directory its data came from.
 */
class AnalysisClassNamesTest {
  private static final List<String> NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
      "Shirt", "Sneaker", "Bag", "Ankle boot");

  /** The analyses of one run, into {@code out}. */
  private static MainTest.Run[] analyses(String run, Path out) {
    MainTest.Run[] r = {
        run("metamers", "--run", run, "--count", "4", "--seed", "3", "--out", out.toString()),
        run("interpolate", "--run", run, "--count", "2", "--steps", "3", "--seed", "2", "--out", out.toString()),
        run("attack", "--run", run, "--attack", "fgsm", "--targeted", "3", "--count", "4", "--eps", "0,0.1", "--out",
            out.toString())};
    for (MainTest.Run x : r) assertThat(x.code()).as(x.err()).isZero();
    return r;
  }

  @Test
  void theAnalysesNameTheClassesOfDataWithNamesAndShowNumbersAloneWithout(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    String run = tiny.dir().toString();
    String dataPath = tiny.data().toAbsolutePath().normalize().toString();

    // IDX files without classes.txt: the classes are numbers; nothing is named.
    Path plain = tmp.resolve("plain");
    MainTest.Run[] p = analyses(run, plain);
    JsonNode pm = Json.MAPPER.readTree(plain.resolve("metamers.json").toFile());
    JsonNode pi = Json.MAPPER.readTree(plain.resolve("interpolate.json").toFile());
    JsonNode pa = Json.MAPPER.readTree(plain.resolve("attack-fgsm-targeted.json").toFile());
    for (JsonNode j : List.of(pm, pi, pa)) {
      assertThat(j.has("class_names")).isFalse();
      assertThat(j.get("data").asText()).isEqualTo("data/test");
      assertThat(j.get("data_path").asText()).isEqualTo(dataPath);
    }
    assertThat(pm.get("pairs").get(0).fieldNames()).toIterable().noneMatch(f -> f.endsWith("_name"));
    assertThat(pi.get("pairs").get(0).fieldNames()).toIterable().noneMatch(f -> f.endsWith("_name"));
    assertThat(pa.has("target_class_name")).isFalse();
    JsonNode m0 = pm.get("pairs").get(0);
    assertThat(p[0].out()).contains(m0.get("index_a").asInt() + " (" + m0.get("label_a").asInt() + ")");
    JsonNode i0 = pi.get("pairs").get(0);
    assertThat(p[1].out()).contains(i0.get("index_from").asInt() + " (label " + i0.get("label_from").asInt() + ") -> ")
        .doesNotContain("classes:");
    assertThat(p[2].out()).contains("fgsm on 4 images:");

    // The same data with a classes.txt: each number with its name.
    Files.writeString(tiny.data().resolve("classes.txt"), String.join("\n", NAMES) + "\n");
    Path named = tmp.resolve("named");
    MainTest.Run[] n = analyses(run, named);
    JsonNode nm = Json.MAPPER.readTree(named.resolve("metamers.json").toFile());
    JsonNode ni = Json.MAPPER.readTree(named.resolve("interpolate.json").toFile());
    JsonNode na = Json.MAPPER.readTree(named.resolve("attack-fgsm-targeted.json").toFile());
    assertThat(nm.get("class_names")).extracting(JsonNode::asText).containsExactlyElementsOf(NAMES);
    assertThat(ni.get("class_names")).extracting(JsonNode::asText).containsExactlyElementsOf(NAMES);
    // The same pairs as without names, every field of before unchanged.
    assertThat(nm.get("pairs")).hasSameSizeAs(pm.get("pairs"));
    for (int k = 0; k < nm.get("pairs").size(); k++) {
      JsonNode was = pm.get("pairs").get(k), is = nm.get("pairs").get(k);
      was.fieldNames().forEachRemaining(f -> assertThat(is.get(f)).as(f).isEqualTo(was.get(f)));
      for (String f : List.of("label_a", "label_b", "class_a", "class_b", "metamer_class")) {
        int c = is.get(f).asInt();
        if (c >= 0) assertThat(is.get(f + "_name").asText()).as(f).isEqualTo(NAMES.get(c));
        else assertThat(is.has(f + "_name")).as(f).isFalse();
      }
      assertThat(n[0].out()).contains(is.get("index_a").asInt() + " (" + is.get("label_a").asInt() + " "
          + NAMES.get(is.get("label_a").asInt()) + ")");
      int ca = is.get("class_a").asInt();
      if (ca >= 0) assertThat(n[0].out()).contains(ca + " (" + NAMES.get(ca) + ")");
    }
    for (JsonNode pair : ni.get("pairs")) {
      int from = pair.get("label_from").asInt(), to = pair.get("label_to").asInt();
      assertThat(pair.get("label_from_name").asText()).isEqualTo(NAMES.get(from));
      assertThat(pair.get("label_to_name").asText()).isEqualTo(NAMES.get(to));
      assertThat(n[1].out()).contains(pair.get("index_from").asInt() + " (label " + from + " " + NAMES.get(from) + ") -> "
          + pair.get("index_to").asInt() + " (label " + to + " " + NAMES.get(to) + ")");
      int c = pair.get("full").get(1).get("model_class").asInt();
      assertThat(n[1].out()).contains(c + " " + NAMES.get(c));
    }
    assertThat(n[1].out()).contains("classes: ");
    assertThat(na.get("targeted").asText()).isEqualTo("3");
    assertThat(na.get("target_class_name").asText()).isEqualTo("Dress");
    assertThat(n[2].out()).contains("fgsm targeted at 3 (Dress) on 4 images:");
    // Targeted by the name instead: the same class.
    MainTest.Run byName = run("attack", "--run", run, "--attack", "fgsm", "--targeted", "Dress", "--count", "4", "--eps",
        "0,0.1", "--out", tmp.resolve("byname").toString());
    assertThat(byName.code()).as(byName.err()).isZero();
    JsonNode bn = Json.MAPPER.readTree(tmp.resolve("byname/attack-fgsm-targeted.json").toFile());
    assertThat(bn.get("target_class_name").asText()).isEqualTo("Dress");
    assertThat(bn.get("curve")).isEqualTo(na.get("curve"));
  }

  /**
   * Two datasets in directories of one name have one {@code data} ("data/test"); {@code
   * data_path} tells them apart, in eval's file and in every analysis's.
   */
  @Test
  void theResultsSayWhichDirectoryTheirDataCameFrom(@TempDir Path tmp) throws Exception {
    MainTest.TinyRun tiny = MainTest.trainTiny(tmp, 1);
    assertThat(tiny.train().code()).as(tiny.train().err()).isZero();
    Path copy = Files.createDirectories(tmp.resolve("elsewhere/data"));
    try (var files = Files.list(tiny.data())) {
      for (Path f : files.toList()) Files.copy(f, copy.resolve(f.getFileName()));
    }
    String run = tiny.dir().toString(), out = tmp.resolve("out").toString();
    String[][] commands = {{"eval"}, {"eval", "--data", copy.toString(), "--as", "copy"},
        {"invert", "--data", copy.toString(), "--count", "2", "--out", out},
        {"probe", "--data", copy.toString(), "--layers", "--nuisance", "--epochs", "1", "--train-count", "30", "--out", out}};
    for (String[] c : commands) {
      // The words as they are: joined and split again, a temporary directory with a space broke them.
      MainTest.Run r = run(java.util.stream.Stream.concat(java.util.Arrays.stream(c), java.util.stream.Stream.of("--run", run))
          .toArray(String[]::new));
      assertThat(r.code()).as(r.err()).isZero();
    }
    JsonNode own = Json.MAPPER.readTree(tiny.dir().resolve("eval-test.json").toFile());
    assertThat(own.get("data").asText()).isEqualTo("data/test");
    assertThat(own.get("data_path").asText()).isEqualTo(tiny.data().toAbsolutePath().normalize().toString());
    for (Path f : List.of(tiny.dir().resolve("eval-copy.json"), tmp.resolve("out/invert.json"),
        tmp.resolve("out/layer-probes.json"), tmp.resolve("out/nuisance-probe.json"))) {
      JsonNode j = Json.MAPPER.readTree(f.toFile());
      assertThat(j.get("data").asText()).as(f.toString()).startsWith("data/test");
      assertThat(j.get("data_path").asText()).as(f.toString()).isEqualTo(copy.toAbsolutePath().normalize().toString());
    }
  }
}
