package dev.workgate.core;

import java.util.Objects;

/**
 * A submit asked for more slots or memory than any node that shares the store could ever give, so
 * the work order would wait forever: it is refused and nothing is written. An {@link
 * IllegalArgumentException}, since the request is what is wrong; the message names what was asked
 * and the most any known node offers.
 */
public final class WorkDoesNotFitException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** What was asked for. */
  private final transient ResourceRequest requested;

  /**
   * A refusal.
   *
   * @param queue the queue it was submitted to
   * @param requested what it asked for
   * @param largest a description of the most the known nodes offer, for the message
   */
  public WorkDoesNotFitException(String queue, ResourceRequest requested, String largest) {
    super(
        "a work order for queue '"
            + queue
            + "' asks for "
            + Objects.requireNonNull(requested, "requested").slots()
            + " slot(s) and "
            + requested.memoryMb()
            + " MB, more than any node sharing the store could ever give ("
            + largest
            + "); nothing was written");
    this.requested = requested;
  }

  /**
   * What the refused work order asked for.
   *
   * @return the request
   */
  public ResourceRequest requested() {
    return requested;
  }
}
