package dev.workgate.core;

/** A submission was refused because its queue reached its depth limit (backpressure). */
public class QueueFullException extends WorkgateException {
  private static final long serialVersionUID = 1L;

  private final String queue;
  private final long depth;
  private final long limit;

  /**
   * Creates the exception.
   *
   * @param queue the full queue
   * @param depth work orders waiting in it
   * @param limit its depth limit
   */
  public QueueFullException(String queue, long depth, long limit) {
    super(
        "queue '"
            + queue
            + "' is full: "
            + depth
            + " work orders waiting, limit "
            + limit
            + "; submit again later or raise the limit");
    this.queue = queue;
    this.depth = depth;
    this.limit = limit;
  }

  /**
   * The full queue.
   *
   * @return its name
   */
  public String queue() {
    return queue;
  }

  /**
   * Work orders waiting when the submission was refused.
   *
   * @return the depth
   */
  public long depth() {
    return depth;
  }

  /**
   * The queue's depth limit.
   *
   * @return the limit
   */
  public long limit() {
    return limit;
  }
}
