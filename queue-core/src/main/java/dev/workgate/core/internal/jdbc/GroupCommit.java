package dev.workgate.core.internal.jdbc;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.IdempotencyKeyConflictException;
import dev.workgate.core.InvalidTransitionException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Group commit on the callers' own threads, for a writer whose transactions each cost a commit of
 * their own (PostgreSQL): concurrent {@link Work.Writer#writeShared} calls of the same {@link
 * Work.Shared} work are run as one call of that work in one transaction instead of one each.
 *
 * <p>No thread of its own and no waiting for company: a caller that finds no shared write in
 * progress writes at once, alone if nobody else is waiting (so a lone append costs what a write of
 * its own costs); callers that arrive while a shared write is in progress queue, and the next of
 * them to lead writes everything queued for the same work, oldest first, up to {@code maxRequests}
 * requests, in one transaction.
 *
 * <p>Each caller keeps the contract of a write of its own: its requests are written all or none,
 * and it gets back exactly its own results. When the combined write is refused because of one
 * request ({@link #refusal}: a version that does not match, a rejected transition, a taken
 * idempotency key, a bad argument), nothing was written, and each caller's requests are then
 * written in a transaction of their own, so that only the caller at fault gets the exception. Any
 * other failure (the database cannot be reached, a commit whose outcome is unknown, an {@link
 * Error}) is what every caller of that transaction gets, as each would have from a write of its
 * own; it is not tried again one by one.
 *
 * <p>Thread-safe.
 */
final class GroupCommit {
  /** Runs work in a transaction of its own and commits it: the writer's plain write. */
  @FunctionalInterface
  interface Transactions {
    <T> T write(String what, Work.Write<T> work);
  }

  private final Transactions transactions;
  private final int maxRequests;
  private final ArrayDeque<Caller<?, ?>> queue = new ArrayDeque<>(); // guarded by this
  private boolean writing; // guarded by this

  /**
   * @param transactions runs one transaction
   * @param maxRequests the most requests of many callers written in one transaction
   */
  GroupCommit(Transactions transactions, int maxRequests) {
    this.transactions = transactions;
    this.maxRequests = maxRequests;
  }

  /**
   * Whether a failure of a combined write is the refusal of one request, after which nothing was
   * written and each caller's requests are to be written on their own.
   */
  static boolean refusal(Throwable t) {
    return t instanceof ConcurrencyException
        || t instanceof InvalidTransitionException
        || t instanceof IdempotencyKeyConflictException
        || t instanceof IllegalArgumentException;
  }

  /** One caller's requests and, once written, its outcome. Fields guarded by the lock. */
  private static final class Caller<Q, R> {
    final String what;
    final Work.Shared<Q, R> work;
    final List<Q> requests;
    boolean done;
    List<R> results;
    RuntimeException failure;
    Error error;

    Caller(String what, Work.Shared<Q, R> work, List<Q> requests) {
      this.what = what;
      this.work = work;
      this.requests = requests;
    }

    int resultCount() {
      int n = 0;
      for (Q q : requests) {
        n += work.results(q);
      }
      return n;
    }
  }

  /**
   * Writes one caller's requests, together with those of concurrent callers of the same work.
   * Returns once they committed; an interrupt does not abandon the write, it is kept for the
   * caller.
   *
   * @return the caller's own results, in the order of its requests
   */
  <Q, R> List<R> write(String what, Work.Shared<Q, R> work, List<Q> requests) {
    Caller<Q, R> mine = new Caller<>(what, work, List.copyOf(requests));
    boolean interrupted = false;
    try {
      synchronized (this) {
        queue.add(mine);
      }
      while (true) {
        List<Caller<?, ?>> batch;
        synchronized (this) {
          while (!mine.done && writing) {
            try {
              wait();
            } catch (InterruptedException e) {
              interrupted = true; // a write is never abandoned half-way; the flag is kept
            }
          }
          if (mine.done) {
            return outcome(mine);
          }
          writing = true; // this caller leads: it writes what is queued, oldest first
          batch = drain();
        }
        try {
          writeBatch(batch);
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

  /**
   * Takes the next batch (the oldest caller and those of the same work after it); holds the lock.
   */
  private List<Caller<?, ?>> drain() {
    List<Caller<?, ?>> batch = new ArrayList<>();
    Caller<?, ?> first = queue.poll();
    batch.add(first);
    int requests = first.requests.size();
    while (!queue.isEmpty()
        && queue.peek().work == first.work
        && requests + queue.peek().requests.size() <= maxRequests) {
      Caller<?, ?> c = queue.poll();
      requests += c.requests.size();
      batch.add(c);
    }
    return batch;
  }

  private static <R> List<R> outcome(Caller<?, R> c) {
    if (c.error != null) {
      throw c.error;
    }
    if (c.failure != null) {
      throw c.failure;
    }
    return c.results;
  }

  /** Writes a batch outside the lock and records each caller's outcome. */
  @SuppressWarnings("unchecked")
  private <Q, R> void writeBatch(List<Caller<?, ?>> callers) {
    List<Caller<Q, R>> batch = new ArrayList<>(callers.size());
    for (Caller<?, ?> c : callers) {
      batch.add((Caller<Q, R>) c); // drain() took callers of one work only
    }
    if (batch.size() == 1) {
      writeAlone(batch.get(0));
      return;
    }
    Caller<Q, R> first = batch.get(0);
    List<Q> all = new ArrayList<>();
    for (Caller<Q, R> c : batch) {
      all.addAll(c.requests);
    }
    List<R> results;
    try {
      results = transactions.write(first.what, (c, ctx) -> first.work.run(c, ctx, all));
    } catch (RuntimeException e) {
      if (refusal(e)) {
        // Refused whole, nothing written: write each caller's requests on their own.
        for (Caller<Q, R> c : batch) {
          writeAlone(c);
        }
      } else {
        finish(batch, e, null);
      }
      return;
    } catch (Error e) {
      finish(batch, null, e); // each caller of the batch rethrows it
      return;
    }
    int from = 0;
    synchronized (this) {
      for (Caller<Q, R> c : batch) {
        int n = c.resultCount();
        c.results = List.copyOf(results.subList(from, from + n));
        from += n;
        c.done = true;
      }
    }
  }

  private <Q, R> void writeAlone(Caller<Q, R> c) {
    List<R> results = null;
    RuntimeException failure = null;
    Error error = null;
    try {
      results = transactions.write(c.what, (conn, ctx) -> c.work.run(conn, ctx, c.requests));
    } catch (RuntimeException e) {
      failure = e;
    } catch (Error e) {
      error = e;
    }
    synchronized (this) {
      c.results = results;
      c.failure = failure;
      c.error = error; // rethrown by its own caller, never by the leader for it
      c.done = true;
    }
  }

  private <Q, R> void finish(List<Caller<Q, R>> batch, RuntimeException failure, Error error) {
    synchronized (this) {
      for (Caller<Q, R> c : batch) {
        c.failure = failure;
        c.error = error;
        c.done = true;
      }
    }
  }

  /** How many callers wait to be written; for tests. */
  synchronized int queued() {
    return queue.size();
  }
}
