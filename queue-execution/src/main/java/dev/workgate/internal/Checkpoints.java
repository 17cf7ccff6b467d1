package dev.workgate.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.core.WorkOrderId;

/** Reading and writing checkpoints as the handler's own types. Stateless; thread-safe. */
public final class Checkpoints {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Checkpoints() {}

  /**
   * A checkpoint read as a type.
   *
   * @throws IllegalArgumentException naming the work order and the type if it does not fit
   */
  public static <T> T read(JsonNode checkpoint, Class<T> type, WorkOrderId id) {
    try {
      return JSON.treeToValue(checkpoint, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the checkpoint of " + id + " does not fit " + type.getName(), e);
    }
  }

  /**
   * A handler's state as JSON.
   *
   * @throws IllegalArgumentException if it is null or cannot be serialised
   */
  public static JsonNode tree(Object state) {
    if (state == null) {
      throw new IllegalArgumentException("a checkpoint must not be null");
    }
    if (state instanceof JsonNode node) {
      return node;
    }
    try {
      return JSON.valueToTree(state);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "the checkpoint state (" + state.getClass().getName() + ") cannot be serialised to JSON",
          e);
    }
  }
}
