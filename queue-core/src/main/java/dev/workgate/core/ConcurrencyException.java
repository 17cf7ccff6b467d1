package dev.workgate.core;

/**
 * An append's expected version did not match the work order's stream: another writer appended first
 * (or the stream exists when it should not, or does not when it should). Nothing of the append was
 * written. The usual response is to re-read the work order and decide again; a stale executor (its
 * lease expired and another node took over) discards its result.
 */
public class ConcurrencyException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  private final WorkOrderId workOrderId;
  private final String expected;
  private final long actualVersion;

  /**
   * Creates the exception.
   *
   * @param workOrderId the work order appended to
   * @param expected the expectation that failed, as text (e.g. {@code "exactly 3"})
   * @param actualVersion the stream's version when the append was tried (0 when it has no events)
   */
  public ConcurrencyException(WorkOrderId workOrderId, String expected, long actualVersion) {
    super(
        "work order "
            + workOrderId
            + ": expected version "
            + expected
            + " but the stream is at version "
            + actualVersion
            + (actualVersion == 0 ? " (no events)" : "")
            + "; nothing was written");
    this.workOrderId = workOrderId;
    this.expected = expected;
    this.actualVersion = actualVersion;
  }

  /**
   * The work order whose append failed.
   *
   * @return the id
   */
  public WorkOrderId workOrderId() {
    return workOrderId;
  }

  /**
   * The expected version as text.
   *
   * @return e.g. {@code "exactly 3"} or {@code "none"}
   */
  public String expected() {
    return expected;
  }

  /**
   * The stream's version when the append was tried.
   *
   * @return the version, 0 when the stream had no events
   */
  public long actualVersion() {
    return actualVersion;
  }
}
