package org.irevnet.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.irevnet.nn.Tensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NpzTest {

  @Test
  void theSameArraysGiveTheSameBytesWhateverTheClock(@TempDir Path tmp) throws Exception {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    arrays.put("w", Nd4j.createFromArray(new float[] {1f, -2f, 3.5f}));
    arrays.put("b", Nd4j.createFromArray(new double[] {0.25}));
    Npz.write(tmp.resolve("a.npz"), arrays);
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(tmp.resolve("a.npz")))) {
      int entries = 0;
      for (ZipEntry e; (e = zip.getNextEntry()) != null; entries++) {
        // A clock's time here made a file and its later copy differ in one byte (ExportCommandTest).
        assertThat(e.getTimeLocal()).as(e.getName()).isEqualTo(StableZip.ENTRY_TIME);
      }
      assertThat(entries).isEqualTo(2);
    }
    Npz.write(tmp.resolve("b.npz"), arrays);
    assertThat(Files.readAllBytes(tmp.resolve("b.npz"))).isEqualTo(Files.readAllBytes(tmp.resolve("a.npz")));
  }

  @Test
  void arraysOfEveryKindComeBackEqual(@TempDir Path tmp) throws Exception {
    INDArray base = Nd4j.linspace(DataType.FLOAT, 1, 12, 1).reshape(3, 4);
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("transposed", base.transpose());                              // not dense: copied
    m.put("row.slice", Tensors.rowSlice(Nd4j.linspace(DataType.FLOAT, 0, 10, 1).reshape(1, 10), 3, 4)); // an offset
    m.put("f64", Nd4j.rand(DataType.DOUBLE, 2, 2, 2));
    m.put("step", Nd4j.scalar(DataType.LONG, 1234567890123L).reshape(1));
    m.put("rank0", Nd4j.scalar(DataType.INT, -7));
    m.put("flags", Nd4j.createFromArray(true, false, true));           // ND4J's own converter
    Path f = tmp.resolve("a.npz");
    Npz.write(f, m);
    Map<String, INDArray> back = Npz.read(f);
    assertThat(back.keySet()).containsExactlyElementsOf(m.keySet());
    for (String k : m.keySet()) {
      assertThat(back.get(k).dataType()).as(k).isEqualTo(m.get(k).dataType());
      assertThat(back.get(k).shape()).as(k).isEqualTo(m.get(k).shape());
      assertThat(back.get(k)).as(k).isEqualTo(m.get(k));
    }
  }

  /** The bytes against the .npy 1.0 spec and little-endian floats written here by hand, not by ND4J. */
  @Test
  void anEntryIsNumpysFormatToTheByte(@TempDir Path tmp) throws Exception {
    float[] v = {1.5f, -2f, 3.25f, 1e-7f, 0f, 7f};
    Path f = tmp.resolve("b.npz");
    Npz.write(f, Map.of("w", Nd4j.createFromArray(v).reshape(2, 3)));
    byte[] npy;
    try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(f))) {
      ZipEntry e = zip.getNextEntry();
      assertThat(e.getName()).isEqualTo("w.npy");
      npy = zip.readAllBytes();
    }
    assertThat(Arrays.copyOf(npy, 8)).isEqualTo(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    int headerLength = ByteBuffer.wrap(npy, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
    assertThat((10 + headerLength) % 64).as("data aligned to 64 bytes").isZero();
    String header = new String(npy, 10, headerLength, StandardCharsets.US_ASCII);
    assertThat(header).startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").endsWith("\n");
    ByteBuffer expected = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) expected.putFloat(x);
    assertThat(Arrays.copyOfRange(npy, 10 + headerLength, npy.length)).isEqualTo(expected.array());
  }

  @Test
  void headersOfOneDimensionAndOfScalarsFollowPythonsTupleSyntax() {
    assertThat(new String(Npz.npyHeader("<i8", new long[] {5}), StandardCharsets.US_ASCII)).contains("'shape': (5,), }");
    assertThat(new String(Npz.npyHeader("<i4", new long[0]), StandardCharsets.US_ASCII)).contains("'shape': (), }");
    assertThat(Npz.npyHeader("<f4", new long[] {1, 7316712}).length % 64).isZero();
  }

  @Test
  void emptyArraysAndVersionTwoHeadersAreRead(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("e.npz");
    Npz.write(f, Map.of("none", Nd4j.create(DataType.FLOAT, 0, 3)));
    assertThat(Npz.read(f).get("none").shape()).isEqualTo(new long[] {0, 3});

    // Version 2.0: a 4-byte header length (NumPy writes it for headers over 64 KiB).
    byte[] v1 = npy("<f8", "(2,)", 16);
    ByteBuffer v2 = ByteBuffer.allocate(v1.length + 2).order(ByteOrder.LITTLE_ENDIAN);
    v2.put(Arrays.copyOf(v1, 6)).put((byte) 2).put((byte) 0).putInt(v1.length - 10 - 16)
        .put(Arrays.copyOfRange(v1, 10, v1.length));
    INDArray a = Npz.readNpy(new java.io.ByteArrayInputStream(v2.array()));
    assertThat(a.dataType()).isEqualTo(DataType.DOUBLE);
    assertThat(a.toDoubleVector()).containsExactly(1.5, -2.0);
  }

  /**
   * np.load opens the archive with Python's zipfile, which reads the central directory at the
   * end of the file; a zip stream (Npz.read) does without it.
   */
  @Test
  void theArchiveEndsWithTheCentralDirectoryNumpyReads(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("c.npz");
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("b", Nd4j.ones(DataType.FLOAT, 2));
    m.put("a", Nd4j.zeros(DataType.DOUBLE, 3));
    Npz.write(f, m);
    try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(f.toFile())) {
      assertThat(zip.stream().map(ZipEntry::getName)).containsExactly("b.npy", "a.npy");
    }
  }

  /** Python 2's NumPy wrote shapes of longs: {@code (2L,)}. */
  @Test
  void shapesWithPython2LongSuffixesAreRead() throws Exception {
    INDArray a = Npz.readNpy(new java.io.ByteArrayInputStream(npy("<f8", "(2L,)", 16)));
    assertThat(a.shape()).isEqualTo(new long[] {2});
    assertThat(a.toDoubleVector()).containsExactly(1.5, -2.0);
  }

  @Test
  void anEntryWithTooFewOrTooManyBytesIsNamedAndRefused(@TempDir Path tmp) throws Exception {
    Path shortFile = tmp.resolve("short.npz"), longFile = tmp.resolve("long.npz");
    writeZip(shortFile, "w.npy", Arrays.copyOf(npy("<f8", "(2,)", 16), 10 + headerOf(npy("<f8", "(2,)", 16)) + 12));
    writeZip(longFile, "w.npy", npy("<f8", "(1,)", 16));
    assertThatThrownBy(() -> Npz.read(shortFile)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("short.npz").hasMessageContaining("w.npy").hasMessageContaining("truncated");
    assertThatThrownBy(() -> Npz.read(longFile)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("long.npz").hasMessageContaining("more data than its shape");
  }

  /**
   * A prefix of an archive is never the archive, wherever the cut falls: inside an entry, at the
   * end of one (a zip stream takes that for the end of the archive), or inside the central
   * directory at the end, without which np.load (Python's zipfile) reads nothing. Every cut is
   * refused in one line naming the file.
   */
  @Test
  void anArchiveCutShortAnywhereIsRefusedNamingTheFile(@TempDir Path tmp) throws Exception {
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("a", Nd4j.ones(DataType.FLOAT, 3));
    m.put("b", Nd4j.zeros(DataType.DOUBLE, 2));
    Path whole = tmp.resolve("whole.npz"), cut = tmp.resolve("cut.npz");
    Npz.write(whole, m);
    byte[] bytes = Files.readAllBytes(whole);
    assertThat(Npz.read(whole)).isEqualTo(m);
    for (int n = 0; n < bytes.length; n++) {
      Files.write(cut, Arrays.copyOf(bytes, n));
      assertThatThrownBy(() -> Npz.read(cut)).as("cut after %d of %d bytes", n, bytes.length)
          .isInstanceOf(java.io.IOException.class).hasMessageStartingWith(cut + ": ").hasMessageNotContaining("\n")
          .hasMessageNotContaining("null"); // an EOFException's message, inside a header
    }
  }

  /**
   * An entry whose local header is damaged ends a zip stream there, silently; the central
   * directory still lists it, as Python's zipfile (np.load) finds it and refuses its bad header.
   */
  @Test
  void anEntryTheStreamCannotReachIsRefused(@TempDir Path tmp) throws Exception {
    Path f = aThenB(tmp, Nd4j.zeros(DataType.DOUBLE, 2));
    byte[] bytes = Files.readAllBytes(f);
    int second = -1; // b's local header: the second "PK\3\4" (the signature APPNOTE.TXT gives)
    for (int i = 1; i + 3 < bytes.length && second < 0; i++) {
      if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 3 && bytes[i + 3] == 4) second = i;
    }
    assertThat(second).isPositive();
    bytes[second + 2] = 7;
    Files.write(f, bytes);
    assertThatThrownBy(() -> Npz.read(f)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(f + ": ").hasMessageContaining("b.npy");
  }

  /**
   * Damage the zip classes refuse in their own words is refused in one line naming the file: a
   * name that is not UTF-8 (an IllegalArgumentException, "malformed input off : 0, length : 4"), an
   * end record whose comment runs past the file's end (an EOFException without a message) and a name that
   * holds a newline (the refusal quoting it took two lines). Found by {@link DamagedNpzTest}.
   */
  @Test
  void damageTheZipClassesRefuseInTheirOwnWordsIsNamedInOneLine(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("w.npz");
    Npz.write(f, Map.of("a", Nd4j.ones(DataType.FLOAT, 3)));
    byte[] valid = Files.readAllBytes(f);
    int end = valid.length - 22; // the end record, without a comment
    byte[] notUtf8 = valid.clone();
    notUtf8[30] = (byte) 0xFF; // the local header's name
    byte[] pastTheEnd = valid.clone();
    pastTheEnd[end + 20] = 1; // a comment of one byte, which the file lacks
    byte[] newline = valid.clone();
    newline[30] = '\n';
    for (byte[] damaged : java.util.List.of(notUtf8, pastTheEnd, newline)) {
      Files.write(f, damaged);
      assertThatThrownBy(() -> Npz.read(f)).isInstanceOf(java.io.IOException.class)
          .hasMessageStartingWith(f + ": ").hasMessageNotContaining("\n").hasMessageNotContaining("null");
    }
  }

  /** Two entries of one name (renamed here in the bytes: zip writers refuse them) are refused. */
  @Test
  void anEntryNameThatAppearsTwiceIsRefused(@TempDir Path tmp) throws Exception {
    Path f = aThenB(tmp, Nd4j.zeros(DataType.FLOAT, 3));
    byte[] bytes = Files.readAllBytes(f);
    byte[] b = "b.npy".getBytes(StandardCharsets.US_ASCII);
    int renamed = 0;
    for (int i = 0; i + b.length <= bytes.length; i++) {
      if (Arrays.equals(bytes, i, i + b.length, b, 0, b.length)) {
        bytes[i] = 'a';
        renamed++;
      }
    }
    assertThat(renamed).as("the local header and the central directory").isEqualTo(2);
    Files.write(f, bytes);
    assertThatThrownBy(() -> Npz.read(f)).isInstanceOf(java.io.IOException.class)
        .hasMessage(f + ": entry a.npy appears twice");
  }

  /**
   * The dtypes other than float32/64 and int32/64 are read by ND4J's converter; each comes back
   * as its ND4J type with its values. The bytes are written here by hand: half floats by their
   * IEEE 754 bit patterns (1.5 is 0x3E00, -2 is 0xC000), unsigned values past the signed range.
   */
  @Test
  void theOtherLittleEndianDtypesAreReadToTheValue() throws Exception {
    record Case(String descr, DataType type, byte[] data, double... values) {}
    Case[] cases = {
        new Case("<f2", DataType.HALF, littleEndian(4, b -> b.putShort((short) 0x3E00).putShort((short) 0xC000)), 1.5, -2),
        new Case("|i1", DataType.BYTE, new byte[] {-1, 100}, -1, 100),
        new Case("<i2", DataType.SHORT, littleEndian(4, b -> b.putShort((short) -300).putShort((short) 300)), -300, 300),
        new Case("|u1", DataType.UBYTE, new byte[] {(byte) 200, 1}, 200, 1),
        new Case("<u2", DataType.UINT16, littleEndian(4, b -> b.putShort((short) 60000).putShort((short) 1)), 60000, 1),
        new Case("<u4", DataType.UINT32, littleEndian(8, b -> b.putInt((int) 3000000000L).putInt(1)), 3e9, 1),
        new Case("<u8", DataType.UINT64, littleEndian(16, b -> b.putLong(1L << 40).putLong(1)), 0x1p40, 1),
        new Case("|b1", DataType.BOOL, new byte[] {1, 0}, 1, 0)};
    for (Case c : cases) {
      INDArray a = Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header(c.descr(), false, "(2,)"), c.data())));
      assertThat(a.dataType()).as(c.descr()).isEqualTo(c.type());
      assertThat(a.shape()).as(c.descr()).isEqualTo(new long[] {2});
      assertThat(a.toDoubleVector()).as(c.descr()).containsExactly(c.values());
    }
  }

  /**
   * ND4J's converter trusts the header. A dtype it does not know (complex, strings, Python
   * objects, raw bytes, big-endian or native-order data) crashed the JVM in native code, data
   * shorter than the shape was read past its end (a bool array of 1000 from 3 bytes): each is
   * refused in words, and a negative size by name (the length check would call it too much data).
   */
  @Test
  void dtypesNd4jCannotReadAndDataThatDoesNotFitTheShapeAreRefused() {
    for (String descr : new String[] {">f4", ">i8", "<c8", "<U1", "|O", "|V8", "=f4", "<f16"}) {
      assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header(descr, false, "(2,)"), F8))))
          .as(descr).isInstanceOf(java.io.IOException.class).hasMessageStartingWith("unsupported dtype '" + descr + "'");
    }
    assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header("|b1", false, "(1000,)"), new byte[] {1, 0, 1}))))
        .hasMessage("truncated: shape [1000] of |b1 needs 1000 bytes, the entry has 3");
    assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header("<u2", false, "(1,)"), new byte[] {1, 0, 1}))))
        .hasMessage("more data than its shape [1] holds");
    for (String descr : new String[] {"|b1", "<f4"}) {
      assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header(descr, false, "(2, -1)"), F8))))
          .as(descr).hasMessage("negative size in shape [2, -1]");
    }
  }

  /**
   * NumPy writes an array that is Fortran-contiguous but not C-contiguous (a transposed matrix:
   * np.savez(f, w=w.T)) with fortran_order True: its bytes run along the first axis first. Such
   * entries were read as if in C order, their values scrambled in silence. Here the bytes are
   * written in that order from a formula, v(i, j, k) = 100 i + 10 j + k, and read back against it,
   * for a dtype that is streamed and two that go to ND4J's converter.
   */
  @Test
  void fortranOrderEntriesAreReadInTheirOwnOrder() throws Exception {
    int[] dims = {2, 3, 4};
    for (String descr : new String[] {"<f4", "<i2", "|u1"}) {
      int itemBytes = descr.charAt(2) - '0';
      ByteBuffer data = ByteBuffer.allocate(24 * itemBytes).order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < dims[2]; k++) {
        for (int j = 0; j < dims[1]; j++) {
          for (int i = 0; i < dims[0]; i++) {
            int v = 100 * i + 10 * j + k;
            if (descr.equals("<f4")) data.putFloat(v);
            else if (itemBytes == 2) data.putShort((short) v);
            else data.put((byte) v);
          }
        }
      }
      INDArray a = Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header(descr, true, "(2, 3, 4)"), data.array())));
      assertThat(a.shape()).as(descr).isEqualTo(new long[] {2, 3, 4});
      for (int i = 0; i < dims[0]; i++) {
        for (int j = 0; j < dims[1]; j++) {
          for (int k = 0; k < dims[2]; k++) {
            assertThat(a.getDouble(i, j, k)).as("%s at (%d, %d, %d)", descr, i, j, k).isEqualTo(100 * i + 10 * j + k);
          }
        }
      }
    }
  }

  /**
   * A shape whose data would pass 2 GB (what one ByteBuffer reaches) is refused before anything
   * is allocated for it: a corrupt shape of 10^12 float32 crashed the JVM in native code, where
   * the 4 TB allocation failed. 2^29 float32 are exactly 2 GiB, one byte more than a buffer holds.
   */
  @Test
  void aShapeTooLargeToReadIsRefusedBeforeItIsAllocated() {
    for (String shape : new String[] {"(1000000000, 1000)", "(536870912,)"}) {
      assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(1, header("<f4", false, shape), F8))))
          .as(shape).hasMessage("larger than 2 GB");
    }
  }

  /**
   * A header claiming just under 2 GB over an entry of 16 bytes is refused by the entry's size,
   * which the archive's central directory records, before the array is allocated: the unfixed
   * read allocated (and touched) the 2 GB first, an OutOfMemoryError where javacpp's limit is
   * lower. The process's resident memory shows it; reading 16 bytes grows it by far less.
   */
  @Test
  void anEntryShorterThanItsHeaderClaimsIsRefusedBeforeItIsAllocated(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("claims.npz");
    writeZip(f, "w.npy", npy(1, header("<f4", false, "(536870911,)"), F8));
    long before = org.bytedeco.javacpp.Pointer.physicalBytes();
    assertThatThrownBy(() -> Npz.read(f)).isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("claims.npz").hasMessageContaining("w.npy")
        .hasMessageContaining("truncated: shape [536870911] of <f4 needs 2147483644 bytes, the entry has 16");
    assertThat(org.bytedeco.javacpp.Pointer.physicalBytes() - before).isLessThan(512L << 20);
  }

  /**
   * The central directory's size is believed only as far as the file can hold it (deflate expands
   * at most 1032 to 1): a directory that lies with the .npy header, as a hostile file's can, had a
   * gigabyte allocated for an entry of 24 bytes before the data was found missing.
   */
  @Test
  void aDirectorySizeTheFileCannotHoldIsRefusedBeforeTheHeaderIsBelieved(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("liar.npz");
    byte[] npy = npy(1, header("<f4", false, "(268435456,)"), new byte[24]);
    writeZip(f, "w.npy", npy);
    byte[] bytes = Files.readAllBytes(f);
    int central = java.util.Collections.indexOfSubList(toList(bytes), java.util.List.of((byte) 'P', (byte) 'K', (byte) 1, (byte) 2));
    long claimed = npy.length - 24 + (1L << 30);
    ByteBuffer.wrap(bytes, central + 24, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) claimed);
    Files.write(f, bytes);
    long before = org.irevnet.nn.NativeHeap.usage().inUseBytes();
    assertThatThrownBy(() -> Npz.read(f)).isInstanceOf(java.io.IOException.class)
        .hasMessageStartingWith(f + ": entry w.npy is listed as " + claimed + " bytes, ")
        .hasMessageEndingWith(" of them in the file, which has " + bytes.length + " (damaged)");
    assertThat(org.irevnet.nn.NativeHeap.usage().inUseBytes() - before).isLessThan(64L << 20);
  }

  private static java.util.List<Byte> toList(byte[] bytes) {
    java.util.List<Byte> list = new java.util.ArrayList<>();
    for (byte b : bytes) list.add(b);
    return list;
  }

  /**
   * The header length is read before the header: a corrupt one (up to 4 GiB in a version 2 field)
   * is refused before anything that size is allocated. The cap is 1 MiB, inclusive; NumPy's own
   * reader refuses headers over 10000 bytes unless told otherwise (max_header_size).
   */
  @Test
  void aHeaderOfOneMebibyteIsReadAndOneByteMoreIsRefused() throws Exception {
    String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    byte[] atCap = (dict + " ".repeat((1 << 20) - dict.length() - 1) + "\n").getBytes(StandardCharsets.US_ASCII);
    assertThat(atCap).hasSize(1 << 20);
    INDArray a = Npz.readNpy(new java.io.ByteArrayInputStream(npy(2, atCap, F8)));
    assertThat(a.toDoubleVector()).containsExactly(1.5, -2.0);

    byte[] over = (dict + " ".repeat(1 << 20) + "\n").getBytes(StandardCharsets.US_ASCII);
    assertThat(over).hasSize((1 << 20) + dict.length() + 1);
    assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(2, over, F8))))
        .hasMessage("bad header length " + over.length);
  }

  /**
   * The refusal of a header quotes it as NumPy decodes it (numpy/lib/format.py): UTF-8 from
   * version 3.0 on, Latin-1 before. The same header in each encoding reads back as the same text,
   * here a key "shäpe" (ä is one byte in Latin-1, two in UTF-8) that is not "shape".
   */
  @Test
  void aHeaderIsQuotedInTheEncodingOfItsVersion() {
    String dict = "{'descr': '<f8', 'fortran_order': False, 'sh\u00e4pe': (2,), }";
    for (int version : new int[] {1, 2, 3}) {
      byte[] header = (dict + "\n").getBytes(version >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      assertThatThrownBy(() -> Npz.readNpy(new java.io.ByteArrayInputStream(npy(version, header, F8))))
          .as("version %d", version).hasMessage("header lacks descr, fortran_order or shape: " + dict);
    }
  }

  /** The float64 data 1.5, -2: what the entries built here hold unless a test gives other data. */
  private static final byte[] F8 = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-2.0).array();

  /** A .npy entry of the given version (1: 2-byte header length, 2 and 3: 4-byte) with these header and data bytes. */
  private static byte[] npy(int version, byte[] header, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + (version == 1 ? 2 : 4) + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) version).put((byte) 0);
    if (version == 1) b.putShort((short) header.length);
    else b.putInt(header.length);
    return b.put(header).put(data).array();
  }

  /** A header dict as NumPy writes it ({@code shape} in Python's tuple syntax). */
  private static byte[] header(String descr, boolean fortran, String shape) {
    return ("{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }\n")
        .getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] littleEndian(int bytes, java.util.function.Consumer<ByteBuffer> put) {
    ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    put.accept(b);
    return b.array();
  }

  /** A version 1.0 .npy entry with the given header fields and the float64 data 1.5, -2 (dataBytes of it). */
  private static byte[] npy(String descr, String shape, int dataBytes) {
    ByteBuffer data = ByteBuffer.allocate(dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    double[] values = {1.5, -2.0};
    for (int i = 0; i < dataBytes / 8; i++) data.putDouble(values[i % 2]);
    return npy(1, header(descr, false, shape), data.array());
  }

  /** {@code tmp/f.npz} holding {@code a} (three float ones), then {@code b}. */
  private static Path aThenB(Path tmp, INDArray b) throws Exception {
    Map<String, INDArray> m = new LinkedHashMap<>();
    m.put("a", Nd4j.ones(DataType.FLOAT, 3));
    m.put("b", b);
    Path f = tmp.resolve("f.npz");
    Npz.write(f, m);
    return f;
  }

  private static int headerOf(byte[] npy) {
    return ByteBuffer.wrap(npy, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
  }

  private static void writeZip(Path file, String entry, byte[] content) throws Exception {
    try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
      zip.putNextEntry(new ZipEntry(entry));
      zip.write(content);
      zip.closeEntry();
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(org.irevnet.testing.Layouts.class)
  void anArrayOfAnyLayoutIsWrittenAsItsValuesNotItsBuffer(org.irevnet.testing.Layouts layout, @TempDir Path tmp)
      throws Exception {
    // A view, a column-major or a permuted array written as its buffer would put other numbers,
    // or the right ones in another order, into check.npz and the weights NumPy reads.
    Map<String, INDArray> given = new LinkedHashMap<>(), dense = new LinkedHashMap<>();
    for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.LONG, DataType.HALF}) {
      INDArray x = Nd4j.linspace(DataType.DOUBLE, 1, 2 * 3 * 4 * 5, 1).reshape(2, 3, 4, 5).castTo(dt);
      given.put(dt + "-image", layout.of(x));
      given.put(dt + "-matrix", layout.of(x.reshape(6, 20)));
    }
    Map<String, INDArray> before = new LinkedHashMap<>();
    given.forEach((name, a) -> {
      dense.put(name, a.dup('c'));
      before.put(name, a.dup('c'));
    });
    Npz.write(tmp.resolve("given.npz"), given);
    Npz.write(tmp.resolve("dense.npz"), dense);
    Map<String, INDArray> read = Npz.read(tmp.resolve("given.npz"));
    dense.forEach((name, a) -> assertThat(read.get(name)).as(name).isEqualTo(a));
    assertThat(Files.readAllBytes(tmp.resolve("given.npz"))).isEqualTo(Files.readAllBytes(tmp.resolve("dense.npz")));
    given.forEach((name, a) -> assertThat(a).as(name + " afterwards").isEqualTo(before.get(name)));
  }
}
