package dev.workgate.benchmarks.harness;

/**
 * One queue system under test, opened fresh (new storage, new node) for each measurement. Every job
 * it runs is a no-op that calls {@link Recorder#started(int)} with the job's index as soon as it
 * runs. Used by one harness thread at a time, except that jobs call the recorder from the system's
 * own workers.
 */
public interface Contender {

  /**
   * A short name for the table, such as {@code workgate/postgres}.
   *
   * @return the name
   */
  String name();

  /**
   * Creates empty storage of its own and a node with {@code workers} workers, not yet processing.
   *
   * @param workers how many jobs may run at once (the same for every contender)
   * @param recorder what jobs report their start to
   * @throws Exception if the storage or the node cannot be set up
   */
  void open(int workers, Recorder recorder) throws Exception;

  /**
   * Submits the jobs with indexes {@code from} to {@code from + count - 1}, as fast as the system
   * allows (its batch submit where it has one). Used to fill a backlog before {@link #start()}.
   *
   * @param from the first index
   * @param count how many
   * @throws Exception if the system refuses them
   */
  void submitBacklog(int from, int count) throws Exception;

  /**
   * Submits one job now, the way an application submits a single piece of work.
   *
   * @param index the job's index
   * @throws Exception if the system refuses it
   */
  void submitOne(int index) throws Exception;

  /**
   * Called once the backlog is in, before the clock starts: lets the database gather statistics (as
   * one in service has), for every contender alike.
   *
   * @throws Exception if that fails
   */
  default void settle() throws Exception {}

  /**
   * Starts processing.
   *
   * @throws Exception if the node cannot start
   */
  void start() throws Exception;

  /**
   * How many jobs have finished and are recorded as such by the system's own storage.
   *
   * @return the count
   * @throws Exception if it cannot be read
   */
  long finished() throws Exception;

  /**
   * How many jobs the system's storage holds as finished, read from the storage itself; the harness
   * checks it off the clock after a drain, where {@link #finished} may come from a listener that
   * hears each completion once the storage has it (so that polling it costs the database nothing).
   *
   * @return the count
   * @throws Exception if it cannot be read
   */
  default long recordedFinished() throws Exception {
    return finished();
  }

  /**
   * Stops the node and drops the storage it created.
   *
   * @throws Exception if that fails
   */
  void close() throws Exception;
}
