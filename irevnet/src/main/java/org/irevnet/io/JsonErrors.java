package org.irevnet.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.io.CharConversionException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What is wrong with a JSON file a user wrote (a config, an architecture), in the user's terms:
 * Jackson's own messages name Java classes and list the known keys unsorted in a paragraph.
 */
public final class JsonErrors {
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * A location inside one of Jackson's messages ("start marker at [Source: REDACTED
   * (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1]"): the source
   * text is Jackson's, not the user's.
   */
  private static final Pattern SOURCE = Pattern.compile("\\[Source: .*?; line: (\\d+), column: (\\d+)]");
  /**
   * Jackson's advice to a programmer inside its messages ("Non-standard token 'NaN': enable
   * `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow", "(not recognized as one since Feature
   * 'ALLOW_COMMENTS' not enabled for parser)"): a setting of Jackson's, not one a user can give.
   */
  private static final Pattern FEATURE = Pattern.compile(
      ": enable `[^`]*` to allow| \\(not recognized as one since Feature '[^']*' not enabled for parser\\)");
  private static final String NON_NUMERIC = ": enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow";

  private JsonErrors() {}

  /**
   * What Jackson says is wrong, in one line and without its source text: a location inside its
   * words reads "line L, column C".
   */
  public static String problem(JsonProcessingException e) {
    String msg = e.getOriginalMessage() == null ? String.valueOf(e.getMessage()) : e.getOriginalMessage();
    msg = msg.replace(NON_NUMERIC, ": JSON has no NaN or Infinity");
    msg = FEATURE.matcher(msg).replaceAll("");
    return SOURCE.matcher(msg).replaceAll("line $1, column $2").lines().findFirst().orElse("");
  }

  /**
   * One line for {@code e}, a failure to read a {@code what} file (or its cause): the key and what
   * it must be, for malformed JSON where (line and column) and Jackson's words for what is wrong, or
   * that the file is not UTF-8 text.
   */
  public static String describe(Exception e, String what) {
    String encoding = notUtf8(e, what);
    if (encoding != null) return encoding;
    Throwable t = e;
    while (t != null && !(t instanceof JsonMappingException)) t = t.getCause();
    if (t instanceof JsonMappingException m) {
      StringBuilder key = new StringBuilder();
      for (JsonMappingException.Reference r : m.getPath()) {
        if (r.getFieldName() == null) key.append('[').append(r.getIndex()).append(']');
        else key.append(key.length() == 0 ? "" : ".").append(r.getFieldName());
      }
      if (m instanceof UnrecognizedPropertyException u) {
        TreeSet<String> known = new TreeSet<>();
        u.getKnownPropertyIds().forEach(k -> known.add(String.valueOf(k)));
        return "unknown key '" + key + "' (known: " + String.join(", ", known) + ")";
      }
      if (key.length() == 0) return "malformed " + what + " JSON: the file must hold one JSON object";
      if (m instanceof MismatchedInputException i && i.getTargetType() != null) {
        String got = "";
        if (m instanceof InvalidFormatException f) {
          try {
            got = ", got " + JSON.writeValueAsString(f.getValue());
          } catch (IOException never) {
            // a value Jackson has just read is writable
          }
        }
        return "key '" + key + "' must be " + kind(i.getTargetType()) + got;
      }
    }
    Throwable p = e;
    while (p != null && !(p instanceof JsonProcessingException)) p = p.getCause();
    if (p instanceof JsonProcessingException j && j.getOriginalMessage() != null) {
      JsonLocation at = j.getLocation();
      String where = at == null || at.getLineNr() < 1 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      return "malformed " + what + " JSON" + where + ": " + problem(j);
    }
    String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
    return "malformed " + what + " JSON: " + msg;
  }

  /**
   * The message for a file that is not UTF-8 text (saved as UTF-16 or Latin-1 by an editor), or
   * null: Java's decoder said only "Input length = 1", and Jackson called it malformed JSON. A NUL
   * character is taken for UTF-16 without a byte-order mark, whose ASCII decodes as UTF-8 with a
   * NUL after each letter; JSON text has none.
   */
  private static String notUtf8(Exception e, String what) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      boolean decoder = c instanceof CharacterCodingException || c instanceof CharConversionException;
      String said = c instanceof JsonProcessingException j && j.getOriginalMessage() != null ? j.getOriginalMessage() : "";
      boolean jackson = said.startsWith("Invalid UTF-8") || said.contains("(CTRL-CHAR, code 0)");
      if (decoder || jackson) return "not UTF-8 text: save the " + what + " file as UTF-8";
    }
    return null;
  }

  private static String kind(Class<?> type) {
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "an integer";
    if (type == double.class || type == Double.class || type == float.class || type == Float.class) return "a number";
    if (type == boolean.class || type == Boolean.class) return "true or false";
    // A list ("inputShape", "stages") was said to be "a JSON object" when given a string or an object.
    if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) return "a JSON array";
    return type == String.class ? "a string" : "a JSON object";
  }
}
