package dev.workgate.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** The one Jackson mapper of the core module, and payload normalisation. */
final class Json {
  static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  /**
   * A private, canonical JSON tree of a value: serialised and parsed again, so that the tree is
   * exactly what a store will read back and the caller's object can change afterwards without
   * touching it.
   */
  static JsonNode canonicalTree(Object value) throws JsonProcessingException {
    return MAPPER.readTree(MAPPER.writeValueAsString(value));
  }
}
