package dev.workgate.core.store;

import dev.workgate.core.internal.Text;
import java.time.Instant;
import java.util.Objects;

/**
 * A pause or resume of a queue, as recorded: which queue, when, by whom and why. A paused queue is
 * claimed from by no node until it is resumed; submits to it still succeed. Immutable and
 * thread-safe.
 *
 * @param queue the queue
 * @param kind pause or resume
 * @param at when it was recorded
 * @param actor who did it (an operator's name, a service), at most {@link Text#MAX_NAME_LENGTH}
 *     chars; for a person, not checked
 * @param reason why, may be empty, at most {@link Text#MAX_REASON_LENGTH} chars
 */
public record QueueAction(String queue, Kind kind, Instant at, String actor, String reason) {

  /** What was done to the queue. */
  public enum Kind {
    /** Claims from the queue stopped. */
    PAUSE,
    /** Claims from the queue go on. */
    RESUME
  }

  /**
   * Validates the action; the actor and reason are kept as {@link Text#requireFreeText} returns
   * them.
   *
   * @throws IllegalArgumentException if the queue breaks the name rule, the actor is blank or too
   *     long, or the reason is too long
   * @throws NullPointerException if the kind, time, actor or reason is null
   */
  public QueueAction {
    Text.requireName(queue, "queue");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(reason, "reason");
    if (actor.isBlank()) {
      throw new IllegalArgumentException("the actor of a queue " + kind + " must not be blank");
    }
    actor = Text.requireFreeText(actor, "actor", Text.MAX_NAME_LENGTH);
    reason = Text.requireFreeText(reason, "reason", Text.MAX_REASON_LENGTH);
  }
}
