package dev.workgate.benchmarks.peers;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.event.AbstractSchedulerListener;
import com.github.kagkarlsson.scheduler.event.SchedulerListener;
import com.github.kagkarlsson.scheduler.serializer.JacksonSerializer;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import dev.workgate.benchmarks.harness.Contender;
import dev.workgate.benchmarks.harness.PostgresSchema;
import dev.workgate.benchmarks.harness.Recorder;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * db-scheduler 16.12 ({@code com.github.kagkarlsson:db-scheduler}) on PostgreSQL, in a schema of
 * its own ({@link PostgresSchema}, {@link PostgresSchema#POOL_SIZE} connections, like every
 * PostgreSQL contender), with its {@code scheduled_tasks} table created from the library's
 * documented PostgreSQL DDL ({@link #DDL}). Every job is an instance of the one-time task {@value
 * #TASK_NAME}, whose data is the job's index and whose handler only calls {@link
 * Recorder#started(int)}.
 *
 * <p>How it is configured, and why that is fair:
 *
 * <ul>
 *   <li>{@code threads(workers)}: the same number of workers as every other contender.
 *   <li>{@code pollUsingLockAndFetch(0.5, 1.0)}: the polling strategy the library documents for
 *       high throughput on PostgreSQL (one {@code SELECT ... FOR UPDATE SKIP LOCKED} statement
 *       picks and locks a batch), with its own default fractions for that strategy ({@code
 *       PollingStrategyConfig.DEFAULT_SELECT_FOR_UPDATE}): fetch up to one batch of {@code workers}
 *       executions, and fetch again once fewer than half of them are left.
 *   <li>{@code pollingInterval(}{@link #POLLING_INTERVAL}{@code )}: the library sets no lower bound
 *       (the builder validates nothing), so it gets the same short interval its own compatibility
 *       tests use.
 *   <li>{@code enableImmediateExecution()}: a job scheduled through this scheduler for now wakes it
 *       at once instead of waiting for the next poll, which is how {@link #submitOne} submits.
 *   <li>Serializer: the built-in {@link JacksonSerializer}. An {@code Integer} is 6 bytes of JSON
 *       with it against 81 bytes of Java serialization with the default one, and a round trip costs
 *       about a quarter as much.
 *   <li>No shutdown hook, no statistics registry: nothing runs that the other contenders do not
 *       run.
 * </ul>
 *
 * <p>{@link #submitBacklog} uses the batch API ({@code scheduleBatch}) in chunks of {@value
 * #BATCH}; {@link #finished} counts successful completions reported by a scheduler listener (see
 * there). Used by one harness thread at a time, like every {@link Contender}; the completion count
 * is updated by the scheduler's own threads and is safe to read from any thread.
 */
public final class DbSchedulerContender implements Contender {

  /** The one task every job is an instance of. */
  static final String TASK_NAME = "noop";

  /**
   * db-scheduler's PostgreSQL table and indexes, as its {@code postgresql_tables.sql} for the 16.x
   * releases defines them.
   */
  public static final String DDL =
      """
      create table scheduled_tasks (
        task_name text not null,
        task_instance text not null,
        task_data bytea,
        execution_time timestamp with time zone not null,
        picked BOOLEAN not null,
        picked_by text,
        last_success timestamp with time zone,
        last_failure timestamp with time zone,
        consecutive_failures INT,
        last_heartbeat timestamp with time zone,
        version BIGINT not null,
        priority SMALLINT,
        PRIMARY KEY (task_name, task_instance)
      );
      CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
      CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
      CREATE INDEX priority_execution_time_idx on scheduled_tasks (priority desc, execution_time asc);
      """;

  /**
   * How often the scheduler polls for due executions: 10 ms. db-scheduler accepts any interval
   * ({@code SchedulerBuilder.pollingInterval} has no minimum; its default is 10 s), and 10 ms is
   * what its own compatibility tests poll with, so it is as short as the library is used with.
   */
  static final Duration POLLING_INTERVAL = Duration.ofMillis(10);

  /** Lock-and-fetch: fetch again once fewer than this fraction of the threads have work left. */
  static final double LOWER_LIMIT_FRACTION_OF_THREADS = 0.5;

  /** Lock-and-fetch: fetch at most this fraction of the threads' worth of executions at once. */
  static final double UPPER_LIMIT_FRACTION_OF_THREADS = 1.0;

  /** Executions per {@code scheduleBatch} call when filling the backlog. */
  static final int BATCH = 1000;

  /** How long {@link #close()} lets running executions finish; the no-op jobs need none of it. */
  private static final Duration SHUTDOWN_MAX_WAIT = Duration.ofSeconds(5);

  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong completionFailures = new AtomicLong();
  private PostgresSchema schema;
  private OneTimeTask<Integer> task;
  private Scheduler scheduler;

  /** A contender that {@link #open} sets up. */
  public DbSchedulerContender() {}

  @Override
  public String name() {
    return "db-scheduler/postgres";
  }

  @Override
  public void open(int workers, Recorder recorder) throws Exception {
    succeeded.set(0);
    completionFailures.set(0);
    schema = PostgresSchema.create("dbsched", PostgresSchema.POOL_SIZE);
    try {
      build(workers, recorder);
    } catch (Exception | Error e) {
      closeAfterFailure(this, e);
      throw e;
    }
  }

  private void build(int workers, Recorder recorder) throws SQLException {
    try (Connection c = schema.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(DDL);
    }
    task = task(recorder);
    scheduler = scheduler(schema.dataSource(), task, "bench", workers, new CompletionCounter());
  }

  /**
   * The one task, whose handler reports the job's index to {@code recorder}.
   *
   * @param recorder what the handler reports to
   * @return the task
   */
  public static OneTimeTask<Integer> task(Recorder recorder) {
    return Tasks.oneTime(TASK_NAME, Integer.class)
        .execute((instance, context) -> recorder.started(instance.getData()));
  }

  /**
   * A scheduler with the settings this class documents, not started: the single node of this
   * contender and each node of the harness's multi-node shape are built here, so that both measure
   * the same configuration.
   *
   * @param dataSource the pool, whose connections use the schema holding {@code scheduled_tasks}
   * @param task the task from {@link #task}
   * @param name the scheduler's name (what {@code picked_by} records)
   * @param workers its threads
   * @param listener a listener, or null for none
   * @return the scheduler
   */
  public static Scheduler scheduler(
      DataSource dataSource,
      OneTimeTask<Integer> task,
      String name,
      int workers,
      SchedulerListener listener) {
    var b =
        Scheduler.create(dataSource, task)
            .schedulerName(new SchedulerName.Fixed(name))
            .threads(workers)
            .pollUsingLockAndFetch(LOWER_LIMIT_FRACTION_OF_THREADS, UPPER_LIMIT_FRACTION_OF_THREADS)
            .pollingInterval(POLLING_INTERVAL)
            .enableImmediateExecution()
            .serializer(new JacksonSerializer())
            .shutdownMaxWait(SHUTDOWN_MAX_WAIT);
    if (listener != null) {
      b.addSchedulerListener(listener);
    }
    return b.build();
  }

  /**
   * A client that schedules with the same serializer, for a process that fills the table but runs
   * no scheduler.
   *
   * @param dataSource the pool
   * @param task the task from {@link #task}
   * @return the client
   */
  public static SchedulerClient client(DataSource dataSource, OneTimeTask<Integer> task) {
    return SchedulerClient.Builder.create(dataSource, task)
        .serializer(new JacksonSerializer())
        .build();
  }

  /**
   * Schedules the jobs {@code from} to {@code from + count - 1} for now with {@code scheduleBatch}
   * in chunks of {@value #BATCH}.
   *
   * @param client the scheduler or client
   * @param task the task from {@link #task}
   * @param from the first index
   * @param count how many
   */
  public static void scheduleBacklog(
      SchedulerClient client, OneTimeTask<Integer> task, int from, int count) {
    Instant now = Instant.now();
    for (int start = from; start < from + count; start += BATCH) {
      int end = Math.min(from + count, start + BATCH);
      List<TaskInstance<?>> chunk = new ArrayList<>(end - start);
      for (int i = start; i < end; i++) {
        chunk.add(task.instance(Integer.toString(i), i));
      }
      client.scheduleBatch(chunk, now);
    }
  }

  @Override
  public void submitBacklog(int from, int count) {
    scheduleBacklog(scheduler, task, from, count);
  }

  @Override
  public void submitOne(int index) {
    scheduler.schedule(task.instance(Integer.toString(index), index), Instant.now());
  }

  @Override
  public void settle() throws SQLException {
    schema.analyze();
  }

  @Override
  public void start() {
    scheduler.start();
  }

  /**
   * Executions that ended in success and whose completion (for a one-time task: deleting its row)
   * went through. db-scheduler keeps no row for a finished one-time execution, so this comes from
   * its listener: {@code onExecutionComplete} with result {@code OK}, which the scheduler calls
   * after the completion handler, less the completion handlers that failed (each reported as a
   * {@code COMPLETIONHANDLER_ERROR} event just before its {@code OK}), whose row therefore stays.
   *
   * @return the count
   */
  @Override
  public long finished() {
    return succeeded.get() - completionFailures.get();
  }

  @Override
  public void close() throws Exception {
    try {
      if (scheduler != null) {
        scheduler.stop();
      }
    } finally {
      scheduler = null;
      if (schema != null) {
        PostgresSchema s = schema;
        schema = null;
        s.close();
      }
    }
  }

  /** Closes a contender whose open failed, keeping the failure as the one to report. */
  private static void closeAfterFailure(Contender contender, Throwable failure) {
    try {
      contender.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }

  /** Counts successful completions and failed completion handlers. */
  private final class CompletionCounter extends AbstractSchedulerListener {
    @Override
    public void onExecutionComplete(ExecutionComplete event) {
      if (event.getResult() == ExecutionComplete.Result.OK) {
        succeeded.incrementAndGet();
      }
    }

    @Override
    public void onSchedulerEvent(SchedulerEventType type) {
      if (type == SchedulerEventType.COMPLETIONHANDLER_ERROR) {
        completionFailures.incrementAndGet();
      }
    }
  }
}
