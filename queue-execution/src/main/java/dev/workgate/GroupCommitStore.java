package dev.workgate;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.spi.AppendRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Group commit for appends: concurrent {@link #appendAll} calls (the executions' {@code Started}
 * and {@code Completed}, submits from many threads) are written as one {@code appendAll} of the
 * host's store, one transaction on a durable store, instead of one each. Every other call goes
 * straight to the store ({@link ForwardingStore}).
 *
 * <p>No thread of its own and no waiting for company: a caller that finds no write in progress
 * writes at once, alone if nobody else is waiting (so a lone append costs what it did before);
 * callers that arrive while a write is in progress queue, and the next of them to lead writes
 * everything queued, up to {@link #MAX_REQUESTS} requests, in one call.
 *
 * <p>Each caller keeps the contract of {@link WorkOrderStore#appendAll}: its own requests are
 * written all or none, and it gets back exactly its own recorded events. When the combined call is
 * refused because of one request (a version that does not match, a rejected transition, a taken
 * idempotency key, a bad argument), nothing was written, and each caller's requests are then
 * written on their own, so that only the caller at fault gets the exception. Any other failure (the
 * store could not be reached, a commit whose outcome is unknown) is what every caller of that batch
 * gets, as each would have from a write of its own.
 *
 * <p>Thread-safe.
 */
final class GroupCommitStore extends ForwardingStore {
  /** The most append requests written in one call of the host's store. */
  static final int MAX_REQUESTS = 512;

  private final ArrayDeque<Pending> queue = new ArrayDeque<>(); // guarded by this
  private boolean writing; // guarded by this

  GroupCommitStore(WorkOrderStore store) {
    super(store);
  }

  /** One caller's requests and, once written, its outcome. Fields guarded by the store's lock. */
  private static final class Pending {
    final List<AppendRequest> requests;
    final int events;
    boolean done;
    List<RecordedEvent> recorded;
    RuntimeException failure;
    Error error;

    Pending(List<AppendRequest> requests) {
      this.requests = requests;
      int n = 0;
      for (AppendRequest r : requests) {
        n += r.events().size();
      }
      this.events = n;
    }
  }

  @Override
  public List<RecordedEvent> appendAll(List<AppendRequest> requests) {
    Pending mine = new Pending(List.copyOf(requests));
    boolean interrupted = false;
    try {
      synchronized (this) {
        queue.add(mine);
      }
      while (true) {
        List<Pending> batch;
        synchronized (this) {
          while (!mine.done && writing) {
            try {
              wait();
            } catch (InterruptedException e) {
              interrupted = true; // an append is never abandoned half-way; the flag is kept
            }
          }
          if (mine.done) {
            return outcome(mine);
          }
          writing = true; // this caller leads: it writes what is queued, oldest first
          batch = drain();
        }
        try {
          write(batch);
        } finally {
          synchronized (this) {
            writing = false;
            notifyAll();
          }
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Takes the next batch off the queue; called holding the lock. */
  private List<Pending> drain() {
    List<Pending> batch = new ArrayList<>();
    int requests = 0;
    while (!queue.isEmpty()
        && (batch.isEmpty() || requests + queue.peek().requests.size() <= MAX_REQUESTS)) {
      Pending p = queue.poll();
      requests += p.requests.size();
      batch.add(p);
    }
    return batch;
  }

  private static List<RecordedEvent> outcome(Pending p) {
    if (p.error != null) {
      throw p.error;
    }
    if (p.failure != null) {
      throw p.failure;
    }
    return p.recorded;
  }

  /** Writes a batch outside the lock and records each caller's outcome. */
  private void write(List<Pending> batch) {
    if (batch.size() == 1) {
      writeAlone(batch.get(0));
      return;
    }
    List<AppendRequest> all = new ArrayList<>();
    for (Pending p : batch) {
      all.addAll(p.requests);
    }
    List<RecordedEvent> recorded;
    try {
      recorded = store.appendAll(all);
    } catch (ConcurrencyException
        | InvalidTransitionException
        | IdempotencyKeyConflictException
        | IllegalArgumentException refused) {
      // Refused whole, nothing written: write each caller's requests on their own.
      for (Pending p : batch) {
        writeAlone(p);
      }
      return;
    } catch (RuntimeException e) {
      finish(batch, e, null);
      return;
    } catch (Error e) {
      finish(batch, null, e); // each caller of the batch rethrows it
      return;
    }
    int from = 0;
    synchronized (this) {
      for (Pending p : batch) {
        p.recorded = List.copyOf(recorded.subList(from, from + p.events));
        from += p.events;
        p.done = true;
      }
    }
  }

  private void writeAlone(Pending p) {
    List<RecordedEvent> recorded = null;
    RuntimeException failure = null;
    Error error = null;
    try {
      recorded = store.appendAll(p.requests);
    } catch (RuntimeException e) {
      failure = e;
    } catch (Error e) {
      error = e;
    }
    synchronized (this) {
      p.recorded = recorded;
      p.failure = failure;
      p.error = error; // rethrown by its own caller, never by the leader for it
      p.done = true;
    }
  }

  private void finish(List<Pending> batch, RuntimeException failure, Error error) {
    synchronized (this) {
      for (Pending p : batch) {
        p.failure = failure;
        p.error = error;
        p.done = true;
      }
    }
  }

  /** How many appends wait to be written; for tests. */
  synchronized int queued() {
    return queue.size();
  }
}
