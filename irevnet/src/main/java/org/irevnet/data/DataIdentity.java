package org.irevnet.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.irevnet.nn.Tensors;

/**
 * What a run was trained on, told by content rather than by path: the data's name, its class names
 * as {@link DataSource#classNames} knows them (null where it knows none), and the SHA-256 of its
 * test split as loaded. A run records it in its {@code config.json}, so that once its data has been
 * moved or deleted the analyses can still tell the run's data (moved) from other data, and still
 * check other data's classes against the run's. The digest is of the images and labels as loaded,
 * not of the files, so one dataset stored as raw or gzipped IDX, or copied elsewhere, digests alike.
 * {@code imageShape} is the images' {@code [channels, height, width]} as stored, before the model's
 * padding (null in a record from before 2026-12-06): images of another size are padded onto the
 * model's input elsewhere than those it was trained on, which the analyses tell from it.
 */
public record DataIdentity(String name, List<String> classes, int testImages, String testSha256, List<Integer> imageShape) {

  /** The identity of {@code src}, whose test split {@code test} is, as loaded (not padded). */
  public static DataIdentity of(DataSource src, Dataset test) {
    return new DataIdentity(src.name(), src.classNames(), test.size(), sha256(test),
        List.of(test.channels(), test.height(), test.width()));
  }

  /** The identity of {@code src}, loading its test split; null when it has none. */
  public static DataIdentity of(DataSource src) {
    return src.has(Split.TEST) ? of(src, src.test()) : null;
  }

  /** As recorded in {@code config.json}'s {@code dataset} (keys in snake case; {@code classes} may be null). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    m.put("classes", classes);
    m.put("test_images", testImages);
    m.put("test_sha256", testSha256);
    if (imageShape != null) m.put("image_shape", imageShape);
    return m;
  }

  /**
   * The identity recorded in a run's {@code config.json} (its {@code dataset} object); null for a
   * run from before it was recorded, or one whose record is not of this form (nothing to tell by).
   * Its {@code imageShape} is null where the record has none of three positive whole numbers.
   */
  public static DataIdentity read(JsonNode dataset) {
    JsonNode sha = dataset.path("test_sha256"), n = dataset.path("test_images"), cls = dataset.path("classes");
    if (!sha.isTextual() || !n.canConvertToInt() || !(cls.isNull() || cls.isArray())) return null;
    List<String> classes = null;
    if (cls.isArray()) {
      classes = new ArrayList<>();
      for (JsonNode c : cls) {
        if (!c.isTextual()) return null;
        classes.add(c.asText());
      }
    }
    return new DataIdentity(dataset.path("name").asText(""), classes, n.asInt(), sha.asText(),
        imageShape(dataset.path("image_shape")));
  }

  private static List<Integer> imageShape(JsonNode shape) {
    if (!shape.isArray() || shape.size() != 3) return null;
    List<Integer> s = new ArrayList<>();
    for (JsonNode d : shape) {
      if (!d.isInt() || d.asInt() < 1) return null;
      s.add(d.asInt());
    }
    return List.copyOf(s);
  }

  /** Whether {@code other} holds the same test split (its digest; names and places may differ). */
  public boolean sameData(DataIdentity other) {
    return other != null && testSha256.equals(other.testSha256);
  }

  /**
   * SHA-256 of a split's shape, labels, class names (in Unicode NFC, as the analyses compare them)
   * and float32 pixels, little-endian; read a thousand images at a time so that no copy of the
   * whole split is made.
   */
  static String sha256(Dataset d) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
    ByteBuffer head = ByteBuffer.allocate(4 * Long.BYTES + d.size() * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (long s : d.images().shape()) head.putLong(s);
    for (int label : d.labels()) head.putInt(label);
    md.update(head.array());
    for (String c : d.classNames()) {
      md.update(Datasets.nfc(c).getBytes(StandardCharsets.UTF_8));
      md.update((byte) 0);
    }
    for (int from = 0; from < d.size(); from += 1000) {
      int to = Math.min(d.size(), from + 1000);
      float[] px = Tensors.rows(d.images(), from, to).dup('c').reshape(-1).toFloatVector();
      ByteBuffer b = ByteBuffer.allocate(px.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      b.asFloatBuffer().put(px);
      md.update(b.array());
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
