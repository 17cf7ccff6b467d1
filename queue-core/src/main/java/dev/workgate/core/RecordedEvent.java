package dev.workgate.core;

import java.time.Instant;
import java.util.Objects;

/**
 * An event as the store recorded it. Immutable and thread-safe.
 *
 * @param position the event's place in the store's global log, rising with every append (gaps are
 *     allowed: retention deletes whole streams)
 * @param workOrderId the work order it belongs to
 * @param version the event's number within the work order's stream: 1 for Submitted, rising by one
 * @param recordedAt when the store recorded it
 * @param event the event
 */
public record RecordedEvent(
    long position,
    WorkOrderId workOrderId,
    long version,
    Instant recordedAt,
    WorkOrderEvent event) {

  /** Validates the record. */
  public RecordedEvent {
    if (position < 1) {
      throw new IllegalArgumentException("position must be at least 1, got " + position);
    }
    if (version < 1) {
      throw new IllegalArgumentException("version must be at least 1, got " + version);
    }
    Objects.requireNonNull(workOrderId, "workOrderId");
    Objects.requireNonNull(recordedAt, "recordedAt");
    Objects.requireNonNull(event, "event");
  }
}
