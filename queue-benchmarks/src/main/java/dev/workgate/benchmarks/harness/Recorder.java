package dev.workgate.benchmarks.harness;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Submit and start times of jobs by index, in {@link System#nanoTime()}. Jobs of systems that
 * instantiate job classes themselves (JobRunr) reach it through {@link #current()}. Thread-safe.
 */
public final class Recorder {
  private static volatile Recorder current = new Recorder(0);

  private final AtomicLongArray submitted;
  private final AtomicLongArray started;
  private final AtomicInteger startCount = new AtomicInteger();
  private final AtomicInteger runs = new AtomicInteger();

  /**
   * A recorder for jobs 0 to {@code size - 1}.
   *
   * @param size how many jobs
   */
  public Recorder(int size) {
    this.submitted = new AtomicLongArray(size);
    this.started = new AtomicLongArray(size);
  }

  /**
   * Makes this the recorder that {@link #current()} returns.
   *
   * @return this
   */
  public Recorder install() {
    current = this;
    return this;
  }

  /**
   * The installed recorder.
   *
   * @return it
   */
  public static Recorder current() {
    return current;
  }

  /**
   * Notes that job {@code index} is being submitted now.
   *
   * @param index the job
   */
  public void submitting(int index) {
    submitted.set(index, System.nanoTime());
  }

  /**
   * Notes that job {@code index} started now. A second run of the same job (a duplicate or a retry)
   * keeps the first start time and is counted in {@link #runs()}.
   *
   * @param index the job
   */
  public void started(int index) {
    runs.incrementAndGet();
    if (started.compareAndSet(index, 0, System.nanoTime())) {
      startCount.incrementAndGet();
    }
  }

  /**
   * How many distinct jobs started.
   *
   * @return the count
   */
  public int startedCount() {
    return startCount.get();
  }

  /**
   * How many times any job ran, duplicates included.
   *
   * @return the count
   */
  public int runs() {
    return runs.get();
  }

  /**
   * Submit → start latencies in nanoseconds of jobs {@code from} to {@code to - 1} that have both
   * times, sorted.
   *
   * @param from the first job
   * @param to one past the last
   * @return the latencies, ascending
   */
  public long[] latencies(int from, int to) {
    long[] out = new long[to - from];
    int n = 0;
    for (int i = from; i < to; i++) {
      long s = submitted.get(i);
      long t = started.get(i);
      if (s != 0 && t != 0) {
        out[n++] = t - s;
      }
    }
    long[] sorted = Arrays.copyOf(out, n);
    Arrays.sort(sorted);
    return sorted;
  }
}
