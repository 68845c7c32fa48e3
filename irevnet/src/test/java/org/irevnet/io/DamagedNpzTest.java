package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.irevnet.testing.Damage;
import org.irevnet.testing.Damage.Damaged;
import org.irevnet.testing.Damage.Field;
import org.irevnet.testing.Damage.Outcome;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link Npz#read} fuzzed. The archives {@link Npz#write} makes (deflated, each entry under the
 * zip's CRC-32) damaged anywhere read as the original or are refused with an IOException naming the
 * file. NumPy's {@code np.savez} stores its entries uncompressed: such an archive, rebuilt with a
 * correct CRC around a damaged {@code .npy} (a hostile or miswritten one: shapes of 0, -1, 2^31-1,
 * 2^63-1, other dtypes, Fortran order, header lengths and versions), reads as some array or is
 * refused, in bounded time and memory.
 */
class DamagedNpzTest {
  private static final Path DIR = Damage.directory("damaged-npz");

  private static Map<String, INDArray> arrays() {
    Map<String, INDArray> a = new LinkedHashMap<>();
    a.put("w", Nd4j.createFromArray(new float[][] {{1.5f, -2, 3}, {4, 5, -6.25f}}));
    a.put("b", Nd4j.createFromArray(0.125, -7.0));
    a.put("mask", Nd4j.createFromArray(true, false, true));
    return a;
  }

  private static final Map<String, INDArray> ORIGINAL = arrays();
  private static final byte[] WRITTEN = written();

  private static byte[] written() {
    try {
      Path f = DIR.resolve("valid.npz");
      Npz.write(f, ORIGINAL);
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The integer fields of the zip's local and central headers and its end record (little-endian). */
  private static List<Field> zipFields(byte[] zip) {
    List<Field> fields = new ArrayList<>();
    for (int at = 0; at + 4 <= zip.length; at++) {
      int sig = (zip[at] & 0xff) | (zip[at + 1] & 0xff) << 8 | (zip[at + 2] & 0xff) << 16 | (zip[at + 3] & 0xff) << 24;
      if (sig == 0x04034b50) { // local header
        for (int[] f : new int[][] {{6, 2}, {8, 2}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}}) {
          fields.add(new Field("local header " + at + "+" + f[0], at + f[0], f[1], false));
        }
      } else if (sig == 0x02014b50) { // central directory entry
        for (int[] f : new int[][] {{10, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 2}, {30, 2}, {42, 4}}) {
          fields.add(new Field("central entry " + at + "+" + f[0], at + f[0], f[1], false));
        }
      } else if (sig == 0x06054b50) { // end of central directory
        for (int[] f : new int[][] {{8, 2}, {10, 2}, {12, 4}, {16, 4}, {20, 2}}) {
          fields.add(new Field("end record +" + f[0], at + f[0], f[1], false));
        }
      } else if (sig == 0x08074b50) { // data descriptor
        for (int[] f : new int[][] {{4, 4}, {8, 4}, {12, 4}}) {
          fields.add(new Field("data descriptor " + at + "+" + f[0], at + f[0], f[1], false));
        }
      }
    }
    return fields;
  }

  @Provide
  Arbitrary<Damaged> npzs() {
    return Damage.of(WRITTEN, zipFields(WRITTEN));
  }

  @Property(tries = 200, seed = "20261206")
  void aDamagedNpzIsReadAsTheOriginalOrRefused(@ForAll("npzs") Damaged d) throws Exception {
    Path f = DIR.resolve("weights.npz");
    Outcome<Map<String, INDArray>> o = Damage.read(f, d, f, Npz::read, IOException.class);
    if (o.refused()) return;
    // The CRC-32 covers every entry's bytes: what reads without a word is the original.
    assertThat(o.value()).as(d + " read without a word").isEqualTo(ORIGINAL);
  }

  /** A .npy entry as NumPy writes it (version 1.0, a header padded to 64 bytes). */
  private static final byte[] NPY = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
      new byte[24]);

  private static byte[] npy(String dict, byte[] data) {
    int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
    byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length,
        (byte) (header.length >> 8)});
    out.writeBytes(header);
    out.writeBytes(data);
    return out.toByteArray();
  }

  /** {@code entry} in an uncompressed zip, as np.savez stores it, under its correct CRC-32. */
  private static byte[] stored(byte[] entry) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      ZipEntry e = new ZipEntry("w.npy");
      e.setMethod(ZipEntry.STORED);
      e.setSize(entry.length);
      e.setCompressedSize(entry.length);
      CRC32 crc = new CRC32();
      crc.update(entry);
      e.setCrc(crc.getValue());
      zip.putNextEntry(e);
      zip.write(entry);
      zip.closeEntry();
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
    return out.toByteArray();
  }

  @Provide
  Arbitrary<Damaged> npys() {
    String shape = "(2, 3)";
    List<String> shapes = new ArrayList<>(List.of("()", "(0,)", "(6,)", "(3, 2)", "(1, 2, 3)", "(2, 0, 3)", "(2,,3)",
        "(2, x)", "(" + "1, ".repeat(40) + "6,)", "(4294967296, 4294967296)", "(0, 9223372036854775807)"));
    for (long v : Damage.EXTREMES) shapes.add("(" + v + ", 3)");
    String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    Arbitrary<Damaged> header = Combinators.combine(Arbitraries.of(shapes),
        Arbitraries.of("<f4", "<f8", ">f4", "|b1", "|u1", "<i2", "<f2", "<c8", "|O", "<U3", "|V4", "<f16", ""),
        Arbitraries.of("False", "True")).as((s, descr, fortran) -> {
          String text = dict.replace(shape, s).replace("<f4", descr).replace("False", fortran);
          return new Damaged("header " + text, npy(text, new byte[24]), 10);
        });
    return Arbitraries.oneOf(header, Damage.of(NPY, List.of(new Field("version", 6, 1, false),
        new Field("header length", 8, 2, false))));
  }

  /**
   * A zip bomb: a bool array of 3 under a header that says so, then 64 MB of zeros that deflate
   * packs into 64 KB. The directory's size is true, so it is refused by the header's shape before
   * the data is read: ND4J's dtypes (bools, bytes, halves) were read whole into the heap first.
   */
  @net.jqwik.api.Example
  void aZipBombUnderASmallHeaderIsRefusedBeforeItIsInflated() throws Exception {
    Path f = DIR.resolve("bomb.npz");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.setLevel(9);
      zip.putNextEntry(new ZipEntry("mask.npy"));
      zip.write(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", new byte[3]));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 64; i++) zip.write(zeros);
      zip.closeEntry();
    }
    Damaged bomb = new Damaged("a bomb of 64 MB", out.toByteArray(), 0);
    Outcome<Map<String, INDArray>> o = Damage.read(f, bomb, f, Npz::read, IOException.class);
    assertThat(o.refusal()).hasMessageContaining("more data than its shape [3] holds");
  }

  @Property(tries = 200, seed = "20261206")
  void anNpyOfAnyHeaderInAStoredArchiveIsReadOrRefused(@ForAll("npys") Damaged entry) throws Exception {
    Path f = DIR.resolve("savez.npz");
    Damaged d = new Damaged(entry.what(), stored(entry.bytes()), entry.first());
    Outcome<Map<String, INDArray>> o = Damage.read(f, d, f, Npz::read, IOException.class);
    if (o.refused()) return;
    assertThat(o.value().keySet()).containsExactly("w");
    assertThat(o.value().get("w").length() * o.value().get("w").dataType().width()).as(d.toString())
        .isLessThanOrEqualTo(d.bytes().length);
  }
}
