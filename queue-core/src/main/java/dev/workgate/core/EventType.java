package dev.workgate.core;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The kinds of {@link WorkOrderEvent}, with the type name and the schema version under which they
 * are written as JSON. The type name is stable forever; the schema version rises when an event's
 * fields change, and readers keep decoding older versions.
 */
public enum EventType {
  /** {@link WorkOrderEvent.Submitted}. */
  SUBMITTED("Submitted", 1),
  /** {@link WorkOrderEvent.Claimed}. */
  CLAIMED("Claimed", 1),
  /** {@link WorkOrderEvent.Started}. */
  STARTED("Started", 1),
  /** {@link WorkOrderEvent.Completed}. */
  COMPLETED("Completed", 1),
  /** {@link WorkOrderEvent.AttemptFailed}. */
  ATTEMPT_FAILED("AttemptFailed", 1),
  /** {@link WorkOrderEvent.RetryReleased}. */
  RETRY_RELEASED("RetryReleased", 1),
  /** {@link WorkOrderEvent.CancellationRequested}. */
  CANCELLATION_REQUESTED("CancellationRequested", 1),
  /** {@link WorkOrderEvent.Cancelled}. */
  CANCELLED("Cancelled", 1),
  /** {@link WorkOrderEvent.Released}. */
  RELEASED("Released", 1);

  private static final Map<String, EventType> BY_NAME =
      Arrays.stream(values())
          .collect(Collectors.toUnmodifiableMap(t -> t.typeName, Function.identity()));

  private final String typeName;
  private final int schemaVersion;

  EventType(String typeName, int schemaVersion) {
    this.typeName = typeName;
    this.schemaVersion = schemaVersion;
  }

  /**
   * The stable name written with the event.
   *
   * @return e.g. {@code "AttemptFailed"}
   */
  public String typeName() {
    return typeName;
  }

  /**
   * The schema version this code writes.
   *
   * @return the current version, at least 1
   */
  public int schemaVersion() {
    return schemaVersion;
  }

  /**
   * The event type with the given type name.
   *
   * @param typeName a name such as {@code "Claimed"}
   * @return the type, or empty when no type has that name
   */
  public static Optional<EventType> ofTypeName(String typeName) {
    return Optional.ofNullable(BY_NAME.get(typeName));
  }
}
