package dev.grit.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import dev.grit.engine.object.Digest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The API's JSON: snake_case field names, digests as hex strings, times as ISO-8601 strings. One
 * shared mapper; Jackson mappers are thread-safe once configured.
 */
final class Json {
  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .registerModule(
              new SimpleModule().addSerializer(Digest.class, ToStringSerializer.instance));

  private Json() {}

  static byte[] bytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // Only our own view records are written: failing here is a bug, not bad input.
      throw new IllegalStateException("cannot write JSON for " + value.getClass(), e);
    }
  }

  /** The body of every error response: {@code {"error": ..., "detail": ...}}. */
  static Map<String, Object> error(String error, Object detail) {
    var body = new LinkedHashMap<String, Object>();
    body.put("error", error);
    body.put("detail", detail);
    return body;
  }

  /** Epoch milliseconds as ISO-8601, or null. */
  static String time(Long epochMillis) {
    return epochMillis == null ? null : Instant.ofEpochMilli(epochMillis).toString();
  }
}
