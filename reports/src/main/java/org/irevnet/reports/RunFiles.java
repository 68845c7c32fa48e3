package org.irevnet.reports;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.irevnet.io.JsonErrors;
import org.irevnet.train.Checkpoints;

/** Read access to the files of a run directory (DESIGN.md section 7), by paths relative to it. */
final class RunFiles {
  /** Written by {@code train} before anything else: what makes a directory a run directory. */
  static final String CONFIG = "config.json";

  private final Path dir;

  RunFiles(Path dir) {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such run directory");
    if (linkToNothing(dir.resolve(CONFIG))) {
      // "not a run directory (no config.json)" sent the user looking for a file that is there, moved away.
      throw new IllegalArgumentException(dir + ": its " + CONFIG + " is a symbolic link to nothing ("
          + readLink(dir.resolve(CONFIG)) + ")");
    }
    if (!Files.isRegularFile(dir.resolve(CONFIG))) {
      throw new IllegalArgumentException(dir + ": not a run directory (no " + CONFIG + "; made by train)");
    }
    this.dir = dir;
  }

  boolean exists(String rel) {
    Path p = dir.resolve(rel);
    return Files.isRegularFile(p) || linkToNothing(p);
  }

  /**
   * A symbolic link whose target has gone (moved, or on a disk not mounted): a file of the run
   * that cannot be read, not one never made. It was passed over, and its section read "ok" with
   * what was left (a metamers.json of that kind: the grid without its numbers, none in the headline).
   */
  private static boolean linkToNothing(Path p) {
    return Files.isSymbolicLink(p) && !Files.exists(p);
  }

  /** Refuses a {@link #linkToNothing}, named as {@code name}, with where it points. */
  private void refuseLinkToNothing(String rel, String name) throws IOException {
    Path p = dir.resolve(rel);
    if (linkToNothing(p)) throw new IOException(name + ": a symbolic link to nothing (" + readLink(p) + ")");
  }

  private static Path readLink(Path link) {
    try {
      return Files.readSymbolicLink(link);
    } catch (IOException e) {
      return link; // gone meanwhile: the link is all there is to name
    }
  }

  // Several sections and the headline read the same files: each is parsed once per report.
  // Only successful parses are kept, so an unreadable file fails the same way every time.
  private final java.util.Map<String, JsonNode> parsed = new java.util.HashMap<>();
  private final java.util.Map<String, List<JsonNode>> parsedLines = new java.util.HashMap<>();
  /** {@link Checkpoints#weightsSha256} of {@code best} and {@code latest} (null: not there), once read. */
  private final java.util.Map<String, String> weightsNow = new java.util.HashMap<>();
  /** {@link AnalysisChecks#identityOf} of the data directories analysis files name, once read (empty: unreadable). */
  private final java.util.Map<String, java.util.Optional<org.irevnet.data.DataIdentity>> dataIdentities =
      new java.util.HashMap<>();

  /** What the data in {@code dir} is by content, read once per report; null when it cannot be read. */
  org.irevnet.data.DataIdentity dataIdentity(String dir) {
    return dataIdentities.computeIfAbsent(dir, d -> java.util.Optional.ofNullable(AnalysisChecks.identityOf(d)))
        .orElse(null);
  }

  /**
   * The parsed JSON file; an unreadable one, or one of a newer schema than this report knows (its
   * fields may have moved: read as ours, its sections came out empty and "ok"), is an IOException
   * naming the file.
   */
  JsonNode json(String rel) throws IOException {
    return json(rel, rel);
  }

  /**
   * {@link #json} of config.json, named by its path as given: unlike a section's file it fails the
   * whole report, whose message would otherwise not say which of several runs it is.
   */
  JsonNode config() throws IOException {
    return json(CONFIG, dir.resolve(CONFIG).toString());
  }

  private JsonNode json(String rel, String name) throws IOException {
    JsonNode cached = parsed.get(rel);
    if (cached != null) return cached;
    refuseLinkToNothing(rel, name);
    JsonNode n;
    try {
      n = JsonReport.MAPPER.readTree(dir.resolve(rel).toFile());
    } catch (JsonProcessingException e) {
      String what = Path.of(rel).getFileName().toString().replaceFirst("\\.json$", ""); // "malformed eval-test JSON"
      throw new IOException(name + ": " + JsonErrors.describe(e, what), e);
    } catch (IOException e) {
      throw new IOException(name + ": " + firstLine(e.getMessage()), e);
    }
    if (n == null || !n.isObject()) throw new IOException(name + ": not a JSON object");
    int schema = n.path("schemaVersion").asInt(JsonReport.SCHEMA_VERSION);
    if (schema > JsonReport.SCHEMA_VERSION) {
      throw new IOException(name + ": schemaVersion " + schema + ", newer than this irevnet reads ("
          + JsonReport.SCHEMA_VERSION + "); report it with the irevnet that wrote it");
    }
    checkWeights(name, n);
    checkLinearProbe(name, n);
    checkVerdicts(name, n);
    parsed.put(rel, n);
    return n;
  }

  /**
   * Refuses an analysis file that records other weights ({@link JsonReport#WEIGHTS_SHA256}) than
   * the run's checkpoint it names holds now: another run's results written into this run's
   * directory (an analysis's --out), or this run's from before it trained on. Either was shown as
   * this run's, and its numbers went into the headline. Files without the field (a model zip's,
   * or from before it was recorded) are not checked.
   */
  private void checkWeights(String name, JsonNode n) throws IOException {
    JsonReport.RecordedWeights recorded = JsonReport.recordedWeights(dir, n);
    if (recorded == null) return;
    // Every analysis file names one of two checkpoints: each manifest is read once per report.
    if (!weightsNow.containsKey(recorded.checkpoint())) {
      weightsNow.put(recorded.checkpoint(), Checkpoints.weightsSha256(recorded.path()));
    }
    String now = weightsNow.get(recorded.checkpoint());
    if (recorded.sha256().equals(now)) return;
    throw new IOException(name + ": made from other weights than " + recorded.path()
        + (now == null ? " (which is not there)" : "") + " holds now (weights_sha256 " + shortDigest(recorded.sha256())
        + (now == null ? "" : " against " + shortDigest(now))
        + "): another run's results, or this run's before it trained on; make it again from this run");
  }

  /**
   * Refuses layer probes by the linear probe before 2026-12-04 (a fixed Adam recipe, recorded as
   * {@code recipe}), which stopped short on the first stages: shown next to a run probed since,
   * the difference would read as one between the models.
   */
  private static void checkLinearProbe(String name, JsonNode n) throws IOException {
    if (n.has("stages") && n.has("recipe") && !n.has("linear_probe")) {
      throw new IOException(name + ": made by the earlier linear probe (a fixed 10-epoch Adam recipe, which stopped"
          + " short on the first stages); make it again with probe --layers");
    }
  }

  /**
   * Refuses a file whose verdicts ({@link AnalysisChecks#VERDICTS}) are not true or false: read as
   * booleans, {@code "invariant_holds": "false"} was no failed check, and its section said "ok" and
   * its numbers went into the headline as clean ones.
   */
  private static void checkVerdicts(String name, JsonNode n) throws IOException {
    for (String k : AnalysisChecks.VERDICTS) expect(name, k, AnalysisChecks.verdict(n, k), Kind.BOOLEAN);
  }

  private static String shortDigest(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }

  /**
   * The lines of a JSON-lines file of numbers by name ({@code metrics.jsonl}: {@code type} is
   * text, everything else a number). A line that does not parse or has a field of another type is
   * an IOException naming the file and the line, except a last line that does not parse and has no
   * newline: the trainer ends every line with one, so that is a line still being written (a running
   * or interrupted training, whose resume drops it), and it is skipped. A last line that parses is
   * whole, newline or not, and is read.
   */
  List<JsonNode> jsonLines(String rel) throws IOException {
    List<JsonNode> cached = parsedLines.get(rel);
    if (cached != null) return cached;
    List<JsonNode> out = List.copyOf(readLines(rel));
    parsedLines.put(rel, out);
    return out;
  }

  private List<JsonNode> readLines(String rel) throws IOException {
    refuseLinkToNothing(rel, rel);
    String text;
    try {
      text = Files.readString(dir.resolve(rel));
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IOException(rel + ": not UTF-8 text", e); // its own message is "Input length = 1"
    }
    List<String> lines = text.lines().toList();
    boolean open = !text.endsWith("\n");
    List<JsonNode> out = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i), where = rel + ": line " + (i + 1);
      if (line.isBlank()) continue;
      JsonNode n;
      try {
        n = JsonReport.MAPPER.readTree(line);
      } catch (JsonProcessingException e) {
        if (open && i == lines.size() - 1) continue;
        // Jackson's own message ended in its source text ("[Source: REDACTED ...; line: 1, column: 40]").
        String column = e.getLocation() == null ? "" : ", column " + e.getLocation().getColumnNr();
        throw new IOException(where + column + ": " + JsonErrors.problem(e), e);
      }
      if (!n.isObject()) throw new IOException(where + ": not a JSON object");
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        Kind kind = field.getKey().equals("type") ? Kind.TEXT
            : field.getKey().equals("step") || field.getKey().equals("epoch") ? Kind.INTEGER : Kind.NUMBER;
        expect(where, field.getKey(), field.getValue(), kind);
      }
      out.add(n);
    }
    return out;
  }

  /** What a field the report reads by name must hold. */
  enum Kind {
    TEXT("text"), INTEGER("an integer"), NUMBER("a number"), OBJECT("an object"), BOOLEAN("true or false");

    private final String what;

    Kind(String what) {
      this.what = what;
    }

    boolean holds(JsonNode v) {
      return switch (this) {
        case TEXT -> v.isTextual();
        case INTEGER -> v.isIntegralNumber();
        // Jackson writes a non-finite double as "NaN", "Infinity" or "-Infinity".
        case NUMBER -> v.isNumber() || TreeFigures.isNonFiniteText(v);
        case OBJECT -> v.isObject();
        case BOOLEAN -> v.isBoolean();
      };
    }
  }

  /**
   * A field the report reads by name (shown as {@code label}) holds {@code kind}, else an
   * IOException naming {@code where} (the file). Absent and null pass: older files lack fields.
   */
  static void expect(String where, String label, JsonNode v, Kind kind) throws IOException {
    if (v == null || v.isNull() || v.isMissingNode() || kind.holds(v)) return;
    String shown = v.toString();
    if (shown.length() > 40) shown = shown.substring(0, 37) + "...";
    throw new IOException(where + ": " + label + " is " + shown + ", not " + kind.what);
  }

  /** {@link #expect} for each of the fields {@code keys} of {@code o}, labelled {@code prefix + key}. */
  static void expectFields(String where, String prefix, JsonNode o, Kind kind, String... keys) throws IOException {
    for (String k : keys) expect(where, prefix + k, o.get(k), kind);
  }

  /** {@link #expect} for an array field and each of its elements. */
  static void expectArray(String where, String label, JsonNode v, Kind element) throws IOException {
    if (v == null || v.isNull() || v.isMissingNode()) return;
    if (!v.isArray()) throw new IOException(where + ": " + label + " is not an array");
    for (int i = 0; i < v.size(); i++) expect(where, label + "[" + i + "]", v.get(i), element);
  }

  /** Files in {@code sub} (relative to the run dir) whose names match the glob, sorted, as relative paths. */
  List<String> matching(String sub, String glob) throws IOException {
    Path d = dir.resolve(sub);
    if (!Files.isDirectory(d)) return List.of();
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> (Files.isRegularFile(p) || linkToNothing(p)) && m.matches(p.getFileName()))
          .map(p -> dir.relativize(p).toString().replace('\\', '/')).sorted().toList();
    }
  }

  /** A PNG of the run as an image figure; an unreadable one is an IOException naming it. */
  Figure.Image image(String rel, String title) throws IOException {
    refuseLinkToNothing(rel, rel);
    byte[] png = Files.readAllBytes(dir.resolve(rel));
    // ImageIO checks no CRC and allocates a header's size before reading its data: a bit flipped
    // in a height read as a taller image (87 MB allocated for a file of 90 bytes), embedded as it was.
    String damage = org.irevnet.io.PngChecks.problem(new ByteArrayInputStream(png), png.length);
    if (damage != null) throw new IOException(rel + ": " + damage);
    ImageGrid.cacheInMemory();
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(png));
    } catch (IOException e) {
      // A truncated PNG (a copy cut short) fails inside the decoder, whose message names no file:
      // "section invertibility: Error reading PNG image data".
      throw new IOException(rel + ": not a readable PNG (" + firstLine(e.getMessage()) + ")", e);
    }
    if (img == null) throw new IOException(rel + ": not a readable PNG");
    return new Figure.Image(title, rel, img.getWidth(), img.getHeight(), png);
  }

  static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
