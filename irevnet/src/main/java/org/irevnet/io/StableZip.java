package org.irevnet.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Zip archives whose bytes depend on their entries only. A zip records each entry's modification
 * time (2-second resolution), so the same arrays written a moment apart differed in a byte or two,
 * and digests taken to tell one model's weights from another's told a file from its copy.
 */
public final class StableZip {
  /** Every entry's modification time. */
  public static final LocalDateTime ENTRY_TIME = LocalDateTime.of(1980, 1, 1, 0, 0);

  private StableZip() {}

  /** A new entry named {@code name}, dated {@link #ENTRY_TIME}. */
  public static ZipEntry entry(String name) {
    ZipEntry e = new ZipEntry(name);
    e.setTimeLocal(ENTRY_TIME);
    return e;
  }

  /**
   * Writes {@code zip}'s entries again, in their order, with the same contents, each dated {@link
   * #ENTRY_TIME} and without comments or extra fields, over {@code zip} (atomically). For archives
   * another library writes ({@code ModelSerializer}'s {@code model.zip}), which the library reads
   * back by entry name.
   */
  public static void rewrite(Path zip) throws IOException {
    AtomicFiles.write(zip, out -> {
      ZipOutputStream to = new ZipOutputStream(out);
      try (InputStream in = Files.newInputStream(zip); ZipInputStream from = new ZipInputStream(in)) {
        for (ZipEntry e = from.getNextEntry(); e != null; e = from.getNextEntry()) {
          to.putNextEntry(entry(e.getName()));
          from.transferTo(to);
          to.closeEntry();
        }
      }
      to.finish();
    });
  }
}
