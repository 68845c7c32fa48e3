package org.irevnet.io;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.irevnet.nn.Tensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** NumPy {@code .npz} archives (a zip of {@code name.npy} entries), readable by {@code np.load}. */
public final class Npz {
  private Npz() {}

  /** NumPy's type strings of the data types written without ND4J's converter. */
  private static final Map<DataType, String> DESCR = Map.of(DataType.FLOAT, "<f4", DataType.DOUBLE, "<f8",
      DataType.LONG, "<i8", DataType.INT, "<i4");

  /** Writes the arrays atomically, in map order; the same arrays always give the same file. */
  public static void write(Path file, Map<String, INDArray> arrays) throws IOException {
    AtomicFiles.write(file, out -> {
      ZipOutputStream zip = new ZipOutputStream(out);
      for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
        // Dated StableZip.ENTRY_TIME: with the clock's time a weights file and its copy written a
        // moment later differed in a byte, depending on when the seconds turned.
        zip.putNextEntry(StableZip.entry(e.getKey() + ".npy"));
        writeNpy(zip, e.getValue());
        zip.closeEntry();
      }
      zip.finish();
    });
  }

  /**
   * One array in NumPy's {@code .npy} format (version 1.0), its elements streamed from native
   * memory in 1 MiB pieces. {@code Nd4j.toNpyByteArray} made three whole copies of each array (a
   * dense one, a native .npy buffer and a Java array): for a checkpoint of fi-revnet-s (Adam's
   * moments are 28 MiB) that put about 170 MiB on {@code train}'s peak memory.
   */
  static void writeNpy(OutputStream out, INDArray a) throws IOException {
    String descr = DESCR.get(a.dataType());
    INDArray d = Tensors.dense(a);
    ByteBuffer data = descr == null || d.length() == 0 || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN
        ? null : Tensors.nativeBytes(d);
    if (data == null) {
      // ND4J's converter writes from the start of the buffer: a float16 view at an offset (rows 1..
      // of a batch) came out as the buffer's first rows.
      out.write(Nd4j.toNpyByteArray(d.offset() == 0 ? d : d.dup('c')));
      return;
    }
    out.write(npyHeader(descr, a.shape()));
    byte[] piece = new byte[Math.min(data.remaining(), 1 << 20)];
    while (data.hasRemaining()) {
      int n = Math.min(piece.length, data.remaining());
      data.get(piece, 0, n);
      out.write(piece, 0, n);
    }
    Reference.reachabilityFence(d);
  }

  /** The .npy 1.0 header: magic, version, length, and the dict padded so the data starts at a multiple of 64. */
  static byte[] npyHeader(String descr, long[] shape) {
    String dims = shape.length == 1 ? shape[0] + ","
        : Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
    byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(10 + header.length).order(ByteOrder.LITTLE_ENDIAN)
        .put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length).put(header).array();
  }

  /**
   * Reads every array of the archive.
   *
   * @throws IOException naming the file (and the entry) when it is not a readable npz archive
   */
  public static Map<String, INDArray> read(Path file) throws IOException {
    try {
      return readArchive(file);
    } catch (IOException e) {
      // Names and headers are quoted from the file: a damaged byte made a newline of one, and the
      // refusal two lines.
      String said = e.getMessage();
      if (said == null || !CONTROL.matcher(said).find()) throw e;
      throw new IOException(CONTROL.matcher(said).replaceAll("?"), e);
    }
  }

  private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

  private static Map<String, INDArray> readArchive(Path file) throws IOException {
    // The central directory at the end, which np.load reads, lists every entry with its size: the
    // stream below ends quietly where an entry should start and does not (an archive cut at the
    // end of an entry, a damaged header), and an entry's size bounds what its header may claim.
    Map<String, Long> listed = new LinkedHashMap<>();
    IOException unlisted = null;
    String incredible = null;
    try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(file.toFile())) {
      long length = Files.size(file);
      for (java.util.Enumeration<? extends ZipEntry> all = z.entries(); all.hasMoreElements(); ) {
        ZipEntry e = all.nextElement();
        listed.put(e.getName(), e.getSize());
        if (incredible == null) incredible = incredibleSize(e, length);
      }
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      // An EOFException (an end record whose comment runs past the file's end) has no message.
      unlisted = e; // said after the stream, whose messages name what is wrong more closely
    }
    // Before any entry is read: the size bounds the allocation its header asks for.
    if (incredible != null) throw new IOException(file + ": " + incredible);
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        ZipInputStream zip = new ZipInputStream(in)) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        String name = e.getName();
        if (!name.endsWith(".npy")) throw new IOException(file + ": unexpected entry " + name);
        INDArray a;
        try {
          a = readNpy(zip, listed.getOrDefault(name, -1L));
        } catch (IOException | RuntimeException ex) {
          throw new IOException(file + ": entry " + name + " is not a valid .npy array ("
              + (ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage()) + ")", ex);
        }
        // np.load would give the last one; neither could say which the writer meant.
        if (arrays.put(name.substring(0, name.length() - 4), a) != null) {
          throw new IOException(file + ": entry " + name + " appears twice");
        }
      }
    } catch (java.util.zip.ZipException | java.io.EOFException e) {
      throw new IOException(file + ": not a readable npz archive ("
          + (e.getMessage() == null ? "cut short" : e.getMessage()) + ")", e);
    } catch (IllegalArgumentException e) {
      // The zip stream's refusal of an entry name that does not decode: "malformed input off : 0,
      // length : 4", named no file (a flipped bit in a name).
      throw new IOException(file + ": not a readable npz archive (an entry name is not UTF-8 text: damaged)", e);
    }
    if (arrays.isEmpty()) throw new IOException(file + ": not an npz archive (no arrays found)");
    if (unlisted != null) {
      throw new IOException(file + ": not a complete npz archive ("
          + (unlisted.getMessage() == null ? "its end record runs past the file's end" : unlisted.getMessage()) + ")",
          unlisted);
    }
    List<String> read = arrays.keySet().stream().map(k -> k + ".npy").toList();
    if (!List.copyOf(listed.keySet()).equals(read)) {
      throw new IOException(file + ": not a complete npz archive (it lists " + listed.keySet() + ", of which "
          + read + " could be read)");
    }
    return arrays;
  }

  /**
   * Why the size the central directory gives {@code e} cannot be true in a file of {@code length}
   * bytes, or null: more bytes than the file holds, or than its compressed bytes inflate to. The
   * size bounds what an entry's .npy header may claim, and so what is allocated before its data is
   * read: a directory that lied with the header (a hostile file) had a gigabyte allocated for 24
   * bytes of data.
   */
  private static String incredibleSize(ZipEntry e, long length) {
    long packed = e.getCompressedSize();
    long size = e.getSize();
    long most = packed < 0 ? -1 : e.getMethod() == ZipEntry.STORED ? packed : Deflate.maxInflated(packed);
    if (packed > length || (most >= 0 && size > most)) {
      return "entry " + e.getName() + " is listed as " + size + " bytes, " + packed + " of them in the file, which has "
          + length + " (damaged)";
    }
    return null;
  }

  private static final Pattern DESCR_FIELD = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN_FIELD = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  /** The dtypes ND4J's converter reads (all little-endian; one byte: any order mark NumPy writes). */
  private static final Pattern CONVERTIBLE = Pattern.compile("[<|](b1|[iu]1)|<([iu][248]|f[248])");
  private static final Pattern SHAPE_FIELD = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  /**
   * One {@code .npy} array from {@code in}, which must end where the array does (a zip entry).
   * Little-endian arrays of the {@link #DESCR} types stream straight into the new array's native
   * memory (a Fortran-order one then takes one transposed copy); ND4J's converter, which reads the
   * others, held three whole copies (the Java bytes, a native .npy buffer, and the array).
   */
  static INDArray readNpy(InputStream in) throws IOException {
    return readNpy(in, -1);
  }

  /** {@link #readNpy(InputStream)} of an entry of {@code entryBytes} bytes ({@code -1}: not known). */
  private static INDArray readNpy(InputStream in, long entryBytes) throws IOException {
    byte[] magic = in.readNBytes(8);
    if (magic.length < 8 || (magic[0] & 0xff) != 0x93
        || !"NUMPY".equals(new String(magic, 1, 5, StandardCharsets.US_ASCII))) {
      throw new IOException("no .npy magic number");
    }
    // Version 1 has a 2-byte header length; versions 2 and 3 a 4-byte one.
    int lengthBytes = magic[6] == 1 ? 2 : 4;
    byte[] length = in.readNBytes(lengthBytes);
    if (length.length < lengthBytes) throw new IOException("header cut short");
    long headerLength = ByteBuffer.wrap(Arrays.copyOf(length, 4)).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
    if (headerLength > 1 << 20) throw new IOException("bad header length " + headerLength);
    byte[] header = in.readNBytes((int) headerLength);
    if (header.length < headerLength) throw new IOException("header cut short");
    String dict = new String(header, magic[6] >= 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    Matcher d = DESCR_FIELD.matcher(dict), f = FORTRAN_FIELD.matcher(dict), s = SHAPE_FIELD.matcher(dict);
    if (!d.find() || !f.find() || !s.find()) throw new IOException("header lacks descr, fortran_order or shape: " + dict.trim());
    DataType type = DESCR.entrySet().stream().filter(t -> t.getValue().equals(d.group(1)))
        .map(Map.Entry::getKey).findFirst().orElse(null);
    long[] shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
        .mapToLong(x -> Long.parseLong(x.endsWith("L") ? x.substring(0, x.length() - 1) : x)).toArray();
    if (Arrays.stream(shape).anyMatch(n -> n < 0)) throw new IOException("negative size in shape " + Arrays.toString(shape));
    long count = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    // A Fortran-order array's bytes are those of its transpose in C order: that is what is read
    // (ND4J's converter too ignores the flag), then transposed back.
    boolean fortran = f.group(1).equals("True") && shape.length > 1;
    long[] stored = shape.clone();
    int[] reversedAxes = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      reversedAxes[i] = shape.length - 1 - i;
      if (fortran) stored[i] = shape[shape.length - 1 - i];
    }
    // ND4J's converter reads what this reader does not (other dtypes, another byte order); it trusts
    // the header: a dtype it does not know crashed the JVM, and data shorter than the shape was read
    // past its end.
    boolean viaConverter = type == null || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN;
    if (viaConverter && !CONVERTIBLE.matcher(d.group(1)).matches()) {
      throw new IOException("unsupported dtype '" + d.group(1) + "' (readable: little-endian floats, integers and bools)");
    }
    // A CONVERTIBLE descr ends in its item's bytes.
    int itemBytes = viaConverter ? d.group(1).charAt(d.group(1).length() - 1) - '0' : type.width();
    long expected = Math.multiplyExact(count, itemBytes);
    // Checked before anything that size is allocated or read: a corrupt header could make it 2 GB
    // over a few bytes of data, or terabytes (the JVM crashed where that failed), and a zip bomb under
    // a small header (64 MB of zeros in 64 KB) was inflated whole into the heap, then refused.
    if (entryBytes >= 0) checkLength(entryBytes - magic.length - lengthBytes - headerLength, expected, shape, d.group(1));
    if (viaConverter) {
      java.io.ByteArrayOutputStream npy = new java.io.ByteArrayOutputStream();
      npy.write(magic);
      npy.write(length);
      npy.write(header);
      if (expected > Integer.MAX_VALUE - npy.size() - 8) throw new IOException("larger than 2 GB");
      // Read no further than the shape.
      byte[] data = in.readNBytes((int) expected);
      checkLength(data.length + (in.read() < 0 ? 0 : 1), expected, shape, d.group(1));
      npy.write(data);
      INDArray a = Nd4j.createNpyFromByteArray(npy.toByteArray()).dup();
      return fortran ? a.reshape('c', stored).permute(reversedAxes).dup('c') : a;
    }
    if (expected > Integer.MAX_VALUE) throw new IOException("larger than 2 GB");
    INDArray a = count == 0 ? Nd4j.create(type, stored) : Nd4j.createUninitialized(type, stored, 'c');
    ByteBuffer dst = count == 0 ? ByteBuffer.allocate(0) : Tensors.writableNativeBytes(a);
    byte[] piece = new byte[(int) Math.min(Math.max(expected, 1), 1 << 20)];
    long got = 0;
    for (int n; (n = in.read(piece)) >= 0; got += n) {
      if (got + n > expected) checkLength(got + n, expected, shape, d.group(1)); // before it overruns dst
      dst.put(piece, 0, n);
    }
    checkLength(got, expected, shape, d.group(1));
    return fortran ? a.permute(reversedAxes).dup('c') : a;
  }

  /** Refuses an entry of {@code got} bytes where its shape and dtype {@code descr} need {@code expected}. */
  private static void checkLength(long got, long expected, long[] shape, String descr) throws IOException {
    if (got > expected) throw new IOException("more data than its shape " + Arrays.toString(shape) + " holds");
    if (got < expected) {
      throw new IOException("truncated: shape " + Arrays.toString(shape) + " of " + descr + " needs " + expected
          + " bytes, the entry has " + got);
    }
  }
}
