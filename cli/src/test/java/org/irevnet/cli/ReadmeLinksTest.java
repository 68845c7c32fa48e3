package org.irevnet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's and docs' links lead somewhere: a renamed heading left "see X" pointing at nothing
 * (a link to a missing anchor opens the top of the page, without a word).
 */
class ReadmeLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern HEADING = Pattern.compile("^#{1,6} (.*)$");

  @Test
  void everyRelativeLinkOfTheReadmeAndDocsNamesAFileAndHeadingThatExist() throws IOException {
    Path root = Path.of("..");
    List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md")));
    try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    List<String> broken = new ArrayList<>();
    for (Path page : pages) broken.addAll(brokenLinks(page, Files.readString(page)));
    assertThat(broken).isEmpty();
  }

  @Test
  void aLinkToAMissingHeadingOrFileIsFound() throws IOException {
    Path dir = Files.createTempDirectory("links");
    Path page = Files.writeString(dir.resolve("page.md"), "");
    String text = """
        ## `train --objective ice` (independence cross-entropy)
        ## Data (`--data`)
        ## Data (`--data`)
        see [iCE](#train---objective-ice-independence-cross-entropy), [data](#data---data-1),
        [gone](#train-objective-ice), [elsewhere](other.md), [out](https://example.org/#x)
        ```
        ## not a heading
        ```
        [fenced](#not-a-heading)
        """;
    assertThat(brokenLinks(page, text)).containsExactly(
        page + ":5: #train-objective-ice (no such heading in " + page + ")",
        page + ":5: other.md (no such file)",
        page + ":9: #not-a-heading (no such heading in " + page + ")");
  }

  /** "FILE:LINE: TARGET (why)" for each relative link of {@code text} (the page {@code page}) that leads nowhere. */
  static List<String> brokenLinks(Path page, String text) throws IOException {
    List<String> broken = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    boolean fenced = false;
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].startsWith("```")) fenced = !fenced;
      if (fenced) continue;
      Matcher m = LINK.matcher(lines[i]);
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("[a-z]+:.*")) continue; // https:, mailto:
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path to = file.isEmpty() ? page : page.resolveSibling(file).normalize();
        if (!Files.exists(to)) {
          broken.add(page + ":" + (i + 1) + ": " + target + " (no such file)");
        } else if (hash >= 0 && !anchors(to.equals(page) ? text : Files.readString(to)).contains(target.substring(hash + 1))) {
          broken.add(page + ":" + (i + 1) + ": " + target + " (no such heading in " + to + ")");
        }
      }
    }
    return broken;
  }

  /** The anchors GitHub gives a page's headings (outside code fences), a repeated one numbered "-1", "-2", ... */
  static Set<String> anchors(String text) {
    Set<String> out = new HashSet<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean fenced = false;
    for (String line : text.split("\n")) {
      if (line.startsWith("```")) fenced = !fenced;
      Matcher h = HEADING.matcher(line);
      if (fenced || !h.matches()) continue;
      String slug = h.group(1).strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{Nd}\\p{Mn}_\\- ]", "")
          .replace(' ', '-');
      int n = seen.merge(slug, 1, Integer::sum) - 1;
      out.add(n == 0 ? slug : slug + "-" + n);
    }
    return out;
  }
}
