package dev.workgate.spi;

import dev.workgate.core.store.WorkOrderStore;
import java.util.Set;

/**
 * Told when work orders became claimable now: a submission without a delay, or a retry released
 * back to PENDING. A scheduler subscribes with {@link WorkOrderStore#subscribe} to wake at once
 * instead of waiting for its next poll; it must still poll, because a notification can be lost (a
 * dropped connection) and delayed work becomes claimable without any event.
 *
 * <p>Called on a thread of the store (the writer or the notification listener): return quickly and
 * do not call back into the store from it. An exception it throws is logged and ignored.
 */
@FunctionalInterface
public interface WorkAvailableListener {

  /**
   * Work became claimable.
   *
   * @param queues the queues that have new claimable work, never empty
   */
  void workAvailable(Set<String> queues);
}
