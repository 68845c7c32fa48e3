package org.irevnet.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import org.junit.jupiter.api.Assertions;

/**
 * Damaged copies of a valid file, for the readers' fuzz tests (shared through the test-jar): a
 * truncation, a flipped bit, an overwritten byte, a header integer set to an extreme, and for text
 * a number set to one. {@link #read} runs a reader on one and checks what the house rule asks: the
 * reader's value, or its own exception in one line naming the file; nothing else thrown, in bounded
 * time, and no more memory (Java's heap, and glibc's, where ND4J's arrays live) than the file could
 * justify.
 */
public final class Damage {
  private Damage() {}

  /**
   * A new temporary directory for a fuzz test's files ({@code prefix} starts its name), deleted when
   * the JVM exits: jqwik's properties take no JUnit {@code @TempDir}.
   */
  public static Path directory(String prefix) {
    try {
      Path dir = Files.createTempDirectory(prefix);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          org.irevnet.io.AtomicFiles.deleteTree(dir);
        } catch (IOException e) {
          // a temporary directory left behind
        }
      }));
      return dir;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The bytes of {@code file}, for the valid files a test damages. */
  public static byte[] bytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Values a header integer or a number of a text file is set to. */
  public static final List<Long> EXTREMES = List.of(0L, 1L, -1L, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE,
      Long.MAX_VALUE, 1_000_000_000L, 0xFFFF_FFFFL);

  /** Seconds one read may take: a damaged file is refused or read at once; a hang is a fault. */
  public static final Duration TIME = Duration.ofSeconds(20);

  /** An integer field of a binary header: {@code width} bytes at {@code offset}, in big- or little-endian order. */
  public record Field(String name, int offset, int width, boolean bigEndian) {}

  /**
   * A damaged copy: {@code what} was done, giving {@code bytes}; {@code first} is the first offset
   * whose byte differs from the valid file's (its length for a copy cut there), so a test can tell
   * damage in a payload without a checksum from damage in a header.
   */
  public record Damaged(String what, byte[] bytes, int first) {
    @Override
    public String toString() {
      return what;
    }
  }

  /** A damaged copy of one of several files (or kinds of file) a test damages, named by {@code file}. */
  public record InFile(String file, Damaged damaged) {
    @Override
    public String toString() {
      return file + ": " + damaged;
    }
  }

  /** Damaged copies of the binary file {@code valid}, whose header integers are {@code fields}. */
  public static Arbitrary<Damaged> of(byte[] valid, List<Field> fields) {
    int n = valid.length;
    Arbitrary<Damaged> cut = Arbitraries.integers().between(0, n - 1)
        .map(at -> new Damaged("cut to " + at + " of " + n + " bytes", Arrays.copyOf(valid, at), at));
    Arbitrary<Damaged> flip = Combinators.combine(Arbitraries.integers().between(0, n - 1),
        Arbitraries.integers().between(0, 7)).as((at, bit) -> {
          byte[] b = valid.clone();
          b[at] ^= (byte) (1 << bit);
          return new Damaged("bit " + bit + " of byte " + at + " flipped", b, at);
        });
    Arbitrary<Damaged> overwrite = Combinators.combine(Arbitraries.integers().between(0, n - 1),
        Arbitraries.of(0x00, 0xFF, 0x7F, 0x80, 0x20, 0x0A)).as((at, v) -> {
          byte[] b = valid.clone();
          b[at] = (byte) (int) v;
          return new Damaged(String.format("byte %d set to 0x%02X", at, v), b, b[at] == valid[at] ? n : at);
        });
    List<Arbitrary<Damaged>> kinds = new ArrayList<>(List.of(cut, flip, overwrite));
    if (!fields.isEmpty()) {
      kinds.add(Combinators.combine(Arbitraries.of(fields), Arbitraries.of(EXTREMES)).as((f, v) -> {
        byte[] b = valid.clone();
        for (int i = 0; i < f.width(); i++) {
          int shift = 8 * (f.bigEndian() ? f.width() - 1 - i : i);
          b[f.offset() + i] = (byte) (v >>> shift);
        }
        return new Damaged(f.name() + " set to " + v, b, Arrays.equals(b, valid) ? n : f.offset());
      }));
    }
    return Arbitraries.oneOf(kinds);
  }

  private static final Pattern NUMBER = Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?");

  /**
   * Damaged copies of the text file {@code valid} (JSON): those of {@link #of}, and each of its
   * numbers set to an extreme or to a fraction, a value of another type, or null.
   */
  public static Arbitrary<Damaged> ofText(String valid) {
    byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
    List<int[]> numbers = new ArrayList<>();
    Matcher m = NUMBER.matcher(valid);
    while (m.find()) numbers.add(new int[] {m.start(), m.end()});
    List<String> values = new ArrayList<>(EXTREMES.stream().map(String::valueOf).toList());
    values.addAll(List.of("0.5", "1e308", "-1e308", "\"2\"", "null", "[]", "{}", "true"));
    Arbitrary<Damaged> number = Combinators.combine(Arbitraries.of(numbers), Arbitraries.of(values)).as((at, v) -> {
      String s = valid.substring(0, at[0]) + v + valid.substring(at[1]);
      return new Damaged("number " + valid.substring(at[0], at[1]) + " at " + at[0] + " set to " + v,
          s.getBytes(StandardCharsets.UTF_8), s.equals(valid) ? bytes.length : at[0]);
    });
    return numbers.isEmpty() ? of(bytes, List.of()) : Arbitraries.oneOf(of(bytes, List.of()), number, number);
  }

  /** What a reader made of a damaged file: its value, or its own refusal. */
  public record Outcome<T>(T value, Throwable refusal) {
    public boolean refused() {
      return refusal != null;
    }
  }

  /** A reader of the file at a path. */
  public interface Reader<T> {
    T read(Path file) throws Exception;
  }

  /**
   * Writes {@code damaged} to {@code file} and reads it with {@code reader}, in at most {@link
   * #TIME}. A refusal must be one of {@code own}, in one line that names {@code named} (the file,
   * or the directory a reader of several files names); any other Throwable fails. The Java heap the
   * read allocates, and the native memory it keeps, must each stay under 64 MiB plus 64 times the
   * file's length.
   */
  @SafeVarargs
  public static <T> Outcome<T> read(Path file, Damaged damaged, Path named, Reader<T> reader,
      Class<? extends Throwable>... own) throws IOException {
    Files.write(file, damaged.bytes());
    long allowed = (64L << 20) + 64L * damaged.bytes().length;
    return Assertions.assertTimeoutPreemptively(TIME, () -> {
      com.sun.management.ThreadMXBean threads =
          (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
      long id = Thread.currentThread().getId();
      long before = threads.getThreadAllocatedBytes(id);
      org.irevnet.nn.NativeHeap.Usage nativeBefore = org.irevnet.nn.NativeHeap.usage();
      Outcome<T> outcome;
      try {
        outcome = new Outcome<>(reader.read(file), null);
      } catch (Throwable t) {
        if (Arrays.stream(own).noneMatch(c -> c.isInstance(t))) {
          throw new AssertionError(damaged + ": " + t.getClass().getName() + " is none of the reader's own "
              + Arrays.toString(own) + ": " + t, t);
        }
        assertThat(t.getMessage()).as(damaged + ": the message of " + t).isNotNull()
            .doesNotContain("\n").contains(named.toString());
        outcome = new Outcome<>(null, t);
      }
      long used = threads.getThreadAllocatedBytes(id) - before;
      // ND4J's arrays live in glibc's heap (mallinfo2), which holds them until the collector frees their wrappers.
      long usedNative = nativeBefore == null ? 0 : org.irevnet.nn.NativeHeap.usage().inUseBytes() - nativeBefore.inUseBytes();
      if (used > allowed || usedNative > allowed) {
        fail(damaged + ": " + used + " bytes of heap and " + usedNative + " native allocated for a file of "
            + damaged.bytes().length + " (" + (outcome.refused() ? "refused: " + outcome.refusal().getMessage() : "read") + ")");
      }
      return outcome;
    }, () -> damaged + ": not read or refused within " + TIME);
  }
}
