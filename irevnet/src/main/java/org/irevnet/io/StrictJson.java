package org.irevnet.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.NumberDeserializers;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.util.AccessPattern;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;

/** Reading the JSON files users write (configs, architectures) with no guessing at what a value meant. */
public final class StrictJson {
  private StrictJson() {}

  /**
   * {@code m}, refusing Jackson's scalar coercions: "epochs": "7" was read as 7, "dequantize": 1
   * as true and "lr": "NaN" as NaN (an architecture's "actnorm": 1 and "steps": "2" alike). An
   * integer where a number is expected stays accepted (it is one).
   */
  public static ObjectMapper scalars(ObjectMapper m) {
    // A deserializer rather than the CoercionConfig for the numbers: Jackson reads "NaN" and
    // "Infinity" as doubles before it consults that, and its refusals there drop the value.
    EnumSet<JsonToken> string = EnumSet.of(JsonToken.VALUE_STRING);
    EnumSet<JsonToken> notBoolean = EnumSet.of(JsonToken.VALUE_STRING, JsonToken.VALUE_NUMBER_INT,
        JsonToken.VALUE_NUMBER_FLOAT);
    m.registerModule(new SimpleModule("strict-scalars")
        .addDeserializer(int.class, new Refusing<>(int.class, "int", string))
        .addDeserializer(long.class, new Refusing<>(long.class, "long", string))
        .addDeserializer(double.class, new Refusing<>(double.class, "double", string))
        .addDeserializer(Double.class, new Refusing<>(Double.class, Double.class.getName(), string))
        .addDeserializer(Integer.class, new Refusing<>(Integer.class, Integer.class.getName(), string))
        .addDeserializer(boolean.class, new Refusing<>(boolean.class, "boolean", notBoolean))
        .addDeserializer(Boolean.class, new Refusing<>(Boolean.class, Boolean.class.getName(), notBoolean)));
    for (CoercionInputShape from : new CoercionInputShape[] {CoercionInputShape.Integer, CoercionInputShape.Float,
        CoercionInputShape.Boolean}) {
      m.coercionConfigFor(LogicalType.Textual).setCoercion(from, CoercionAction.Fail);
    }
    return m;
  }

  /** Jackson's own reading of a scalar type, but for the JSON tokens in {@code refused}, which name their value. */
  private static final class Refusing<T> extends StdScalarDeserializer<T> {
    private final JsonDeserializer<T> std;
    private final Set<JsonToken> refused;

    @SuppressWarnings("unchecked")
    Refusing(Class<T> type, String name, Set<JsonToken> refused) {
      super(type);
      this.std = (JsonDeserializer<T>) NumberDeserializers.find(type, name);
      this.refused = refused;
    }

    @Override
    public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (refused.contains(p.currentToken())) {
        Object value = p.currentToken() == JsonToken.VALUE_STRING ? p.getText() : p.getNumberValue();
        throw InvalidFormatException.from(p, "not a " + handledType().getSimpleName(), value, handledType());
      }
      return std.deserialize(p, ctxt);
    }

    @Override
    public T getNullValue(DeserializationContext ctxt) throws JsonMappingException {
      return std.getNullValue(ctxt); // 0 or false for a primitive left out; TrainConfig.fromJson refuses that in a saved config
    }

    @Override
    public AccessPattern getNullAccessPattern() {
      return std.getNullAccessPattern();
    }
  }
}
