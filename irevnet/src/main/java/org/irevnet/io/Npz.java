package org.irevnet.io;

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
import java.util.Map;
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

  /** Writes the arrays atomically, in map order. */
  public static void write(Path file, Map<String, INDArray> arrays) throws IOException {
    AtomicFiles.write(file, out -> {
      ZipOutputStream zip = new ZipOutputStream(out);
      for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
        zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
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
   * moments are 29 MiB) that put about 170 MiB on {@code train}'s peak memory.
   */
  static void writeNpy(OutputStream out, INDArray a) throws IOException {
    String descr = DESCR.get(a.dataType());
    INDArray d = Tensors.dense(a);
    ByteBuffer data = descr == null || d.length() == 0 || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN
        ? null : Tensors.nativeBytes(d);
    if (data == null) {
      out.write(Nd4j.toNpyByteArray(d));
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
   * @throws IOException naming the file when it is not a readable npz archive
   */
  public static Map<String, INDArray> read(Path file) throws IOException {
    Map<String, INDArray> arrays = new LinkedHashMap<>();
    try (InputStream in = Files.newInputStream(file); ZipInputStream zip = new ZipInputStream(in)) {
      ZipEntry e;
      while ((e = zip.getNextEntry()) != null) {
        String name = e.getName();
        if (!name.endsWith(".npy")) throw new IOException(file + ": unexpected entry " + name);
        byte[] bytes = zip.readAllBytes();
        INDArray a;
        try {
          a = Nd4j.createNpyFromByteArray(bytes).dup();
        } catch (RuntimeException ex) {
          throw new IOException(file + ": entry " + name + " is not a valid .npy array", ex);
        }
        arrays.put(name.substring(0, name.length() - 4), a);
      }
    }
    if (arrays.isEmpty()) throw new IOException(file + ": not an npz archive (no arrays found)");
    return arrays;
  }
}
