package dev.workgate.retry.internal;

import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot of the retry schedule and of what one {@link RetryManager} has done since it was
 * built. Immutable and thread-safe.
 *
 * @param pendingRetries work orders waiting for a retry, in the whole store
 * @param nextDueAt the earliest retry time among them
 * @param scheduled failed attempts this manager recorded with a retry time
 * @param released retries this manager released
 * @param exhausted work orders this manager failed because their attempts ran out
 * @param notRetried work orders this manager failed because their error was not retryable
 * @param cancelled waiting retries this manager cancelled
 * @param attemptsReleased attempts this manager gave back without charging them ({@code Released})
 * @param poisoned work orders this manager failed as {@code POISONED}: released too often
 */
public record RetryStats(
    long pendingRetries,
    Optional<Instant> nextDueAt,
    long scheduled,
    long released,
    long exhausted,
    long notRetried,
    long cancelled,
    long attemptsReleased,
    long poisoned) {}
