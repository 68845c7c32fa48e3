package org.irevnet.reports;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/** Read access to the files of a run directory (DESIGN.md section 7), by paths relative to it. */
final class RunFiles {
  /** Written by {@code train} before anything else: what makes a directory a run directory. */
  static final String CONFIG = "config.json";

  private final Path dir;

  RunFiles(Path dir) {
    if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such run directory");
    if (!Files.isRegularFile(dir.resolve(CONFIG))) {
      throw new IllegalArgumentException(dir + ": not a run directory (no " + CONFIG + "; made by train)");
    }
    this.dir = dir;
  }

  boolean exists(String rel) {
    return Files.isRegularFile(dir.resolve(rel));
  }

  // Several sections and the headline read the same files: each is parsed once per report.
  // Only successful parses are kept, so an unreadable file fails the same way every time.
  private final java.util.Map<String, JsonNode> parsed = new java.util.HashMap<>();
  private final java.util.Map<String, List<JsonNode>> parsedLines = new java.util.HashMap<>();

  /**
   * The parsed JSON file; an unreadable one, or one of a newer schema than this report knows (its
   * fields may have moved: read as ours, its sections came out empty and "ok"), is an IOException
   * naming the file.
   */
  JsonNode json(String rel) throws IOException {
    JsonNode cached = parsed.get(rel);
    if (cached != null) return cached;
    JsonNode n;
    try {
      n = JsonReport.MAPPER.readTree(dir.resolve(rel).toFile());
    } catch (IOException e) {
      throw new IOException(rel + ": " + firstLine(e.getMessage()), e);
    }
    if (n == null || !n.isObject()) throw new IOException(rel + ": not a JSON object");
    int schema = n.path("schemaVersion").asInt(JsonReport.SCHEMA_VERSION);
    if (schema > JsonReport.SCHEMA_VERSION) {
      throw new IOException(rel + ": schemaVersion " + schema + ", newer than this irevnet reads ("
          + JsonReport.SCHEMA_VERSION + "); report it with the irevnet that wrote it");
    }
    parsed.put(rel, n);
    return n;
  }

  /** The lines of a JSON-lines file that parse as objects (others are skipped: a run may be writing). */
  List<JsonNode> jsonLines(String rel) throws IOException {
    List<JsonNode> cached = parsedLines.get(rel);
    if (cached != null) return cached;
    List<JsonNode> out = List.copyOf(readLines(rel));
    parsedLines.put(rel, out);
    return out;
  }

  private List<JsonNode> readLines(String rel) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve(rel))) {
      if (line.isBlank()) continue;
      try {
        JsonNode n = JsonReport.MAPPER.readTree(line);
        if (n.isObject()) out.add(n);
      } catch (IOException e) {
        // A half-written last line of a running training; the rest is still worth showing.
      }
    }
    return out;
  }

  /** Files in {@code sub} (relative to the run dir) whose names match the glob, sorted, as relative paths. */
  List<String> matching(String sub, String glob) throws IOException {
    Path d = dir.resolve(sub);
    if (!Files.isDirectory(d)) return List.of();
    PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> Files.isRegularFile(p) && m.matches(p.getFileName()))
          .map(p -> dir.relativize(p).toString().replace('\\', '/')).sorted().toList();
    }
  }

  /** A PNG of the run as an image figure; an unreadable one is an IOException naming it. */
  Figure.Image image(String rel, String title) throws IOException {
    byte[] png = Files.readAllBytes(dir.resolve(rel));
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    if (img == null) throw new IOException(rel + ": not a readable PNG");
    return new Figure.Image(title, rel, img.getWidth(), img.getHeight(), png);
  }

  static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
