package dev.workgate.benchmarks.peers;

import dev.workgate.benchmarks.harness.Recorder;

/**
 * The job that systems which store a method call rather than data (JobRunr) run: a static method,
 * so that the system needs no instance of anything to call it. Stateless and thread-safe.
 */
public final class NoOpJobs {
  private NoOpJobs() {}

  /**
   * Reports job {@code index} as started to the installed {@link Recorder} and does nothing else.
   *
   * @param index the job's index
   */
  public static void run(int index) {
    Recorder.current().started(index);
  }
}
