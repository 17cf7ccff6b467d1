package dev.workgate.benchmarks.peers;

import static org.jobrunr.server.BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration;
import static org.jobrunr.server.carbonaware.CarbonAwareJobProcessingConfiguration.usingDisabledCarbonAwareJobProcessingConfiguration;

import dev.workgate.benchmarks.harness.Contender;
import dev.workgate.benchmarks.harness.PostgresSchema;
import dev.workgate.benchmarks.harness.Recorder;
import java.sql.SQLException;
import java.time.Duration;
import java.util.stream.IntStream;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.configuration.JobRunrConfiguration.JobRunrConfigurationResult;
import org.jobrunr.jobs.states.StateName;
import org.jobrunr.scheduling.JobScheduler;
import org.jobrunr.server.BackgroundJobServer;
import org.jobrunr.server.BackgroundJobServerConfiguration;
import org.jobrunr.storage.InMemoryStorageProvider;
import org.jobrunr.storage.StorageProvider;
import org.jobrunr.storage.sql.postgres.PostgresStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * JobRunr 8.7 (the free edition), in one of two variants: {@link #inMemory()} on its {@link
 * InMemoryStorageProvider}, or {@link #postgres()} on its {@link PostgresStorageProvider} in a
 * PostgreSQL schema of its own ({@link PostgresSchema}, {@link PostgresSchema#POOL_SIZE}
 * connections, like every PostgreSQL contender), whose tables JobRunr creates itself, named with
 * the schema as table prefix so that they are its own whatever else the database holds. Every job
 * is a call of {@link NoOpJobs#run(int)} with the job's index.
 *
 * <p>How it is configured, through JobRunr's fluent {@code JobRunr.configure()} API, and why that
 * is fair:
 *
 * <ul>
 *   <li>{@code andWorkerCount(workers)}: the same number of workers as every other contender.
 *   <li>{@code andPollInterval(...)}: the shortest interval JobRunr accepts for the storage, {@link
 *       #IN_MEMORY_POLL_INTERVAL} in memory and {@link #SQL_POLL_INTERVAL} on PostgreSQL (the
 *       default is 15 s). JobRunr enqueues work only in its store: a job submitted while the
 *       workers are idle waits for the next poll, whereas a backlog is fetched again as soon as the
 *       workers run short of work, without waiting for the poll.
 *   <li>Nothing else in the free edition's server configuration bears on throughput: its request
 *       sizes bound the housekeeping of scheduled, orphaned and succeeded jobs, not the fetching of
 *       enqueued ones (a server fetches as many as it has free workers), and its virtual-thread
 *       workers need Java 21, so on Java 17 the workers are platform threads like every other
 *       contender's. Its fast path for many jobs is batch submission ({@code
 *       JobScheduler.enqueue(Stream, ...)}), which {@link #submitBacklog} uses in chunks of {@value
 *       #BATCH}.
 *   <li>{@code andDeleteSucceededJobsAfter(}{@link #KEEP_SUCCEEDED}{@code )}: JobRunr moves a
 *       succeeded job to the deleted state after a while (36 h by default); an hour keeps every
 *       measurement's jobs counted by {@link #finished()}.
 *   <li>No dashboard, no JMX, no metrics, carbon-aware processing off: nothing runs that the other
 *       contenders do not run.
 * </ul>
 *
 * <p>JobRunr keeps its configuration in statics ({@code JobRunr.configure()} replaces it on every
 * {@link #open}, and registers a JVM shutdown hook each time), so at most one JobRunr contender may
 * be open at a time in a JVM; {@link #close()} stops this contender's own server and storage, after
 * which it can be opened again. Used by one harness thread at a time, like every {@link Contender};
 * jobs report to {@link Recorder#current()}, which {@link #open} installs.
 */
public final class JobRunrContender implements Contender {

  /**
   * The shortest poll interval JobRunr accepts for its in-memory storage: 200 ms ({@code
   * AbstractStorageProvider.validatePollInterval}: "The smallest supported pollInterval for the
   * InMemoryStorageProvider is 200ms").
   */
  public static final Duration IN_MEMORY_POLL_INTERVAL = Duration.ofMillis(200);

  /**
   * The shortest poll interval JobRunr accepts for a SQL storage: 5 s ({@code
   * AbstractStorageProvider.validatePollInterval}: "The smallest supported pollInterval is 5
   * seconds - otherwise it will cause to much load on your SQL/noSQL datastore").
   */
  public static final Duration SQL_POLL_INTERVAL = Duration.ofSeconds(5);

  /** How long a succeeded job stays succeeded before JobRunr moves it to the deleted state. */
  public static final Duration KEEP_SUCCEEDED = Duration.ofHours(1);

  /** Jobs per {@code enqueue(Stream, ...)} call when filling the backlog. */
  static final int BATCH = 1000;

  private final boolean postgres;
  private PostgresSchema schema;
  private StorageProvider storage;
  private BackgroundJobServer server;
  private JobScheduler scheduler;

  private JobRunrContender(boolean postgres) {
    this.postgres = postgres;
  }

  /**
   * JobRunr on its in-memory storage.
   *
   * @return a contender that {@link #open} sets up
   */
  public static JobRunrContender inMemory() {
    return new JobRunrContender(false);
  }

  /**
   * JobRunr on PostgreSQL, in a schema of its own.
   *
   * @return a contender that {@link #open} sets up
   */
  public static JobRunrContender postgres() {
    return new JobRunrContender(true);
  }

  @Override
  public String name() {
    return postgres ? "jobrunr/postgres" : "jobrunr/memory";
  }

  @Override
  public void open(int workers, Recorder recorder) throws Exception {
    recorder.install();
    try {
      build(workers);
    } catch (Exception | Error e) {
      closeAfterFailure(this, e);
      throw e;
    }
  }

  private void build(int workers) throws SQLException {
    if (postgres) {
      schema = PostgresSchema.create("jobrunr", PostgresSchema.POOL_SIZE);
      storage = new PostgresStorageProvider(schema.dataSource(), schema.name() + ".");
    } else {
      storage = new InMemoryStorageProvider();
    }
    BackgroundJobServerConfiguration config =
        usingStandardBackgroundJobServerConfiguration()
            .andName("bench")
            .andWorkerCount(workers)
            .andPollInterval(postgres ? SQL_POLL_INTERVAL : IN_MEMORY_POLL_INTERVAL)
            .andDeleteSucceededJobsAfter(KEEP_SUCCEEDED)
            .andCarbonAwareJobProcessingConfiguration(
                usingDisabledCarbonAwareJobProcessingConfiguration());
    JobRunrConfigurationResult result =
        JobRunr.configure()
            .useJsonMapper(new JacksonJsonMapper())
            .useStorageProvider(storage)
            .useBackgroundJobServer(config, false)
            .initialize();
    this.server = result.getBackgroundJobServer();
    this.scheduler = result.getJobScheduler();
  }

  /** Closes a contender whose open failed, keeping the failure as the one to report. */
  private static void closeAfterFailure(Contender contender, Throwable failure) {
    try {
      contender.close();
    } catch (Exception e) {
      failure.addSuppressed(e);
    }
  }

  @Override
  public void submitBacklog(int from, int count) {
    for (int start = from; start < from + count; start += BATCH) {
      int end = Math.min(from + count, start + BATCH);
      scheduler.enqueue(IntStream.range(start, end).boxed(), index -> NoOpJobs.run(index));
    }
  }

  @Override
  public void submitOne(int index) {
    scheduler.enqueue(() -> NoOpJobs.run(index));
  }

  @Override
  public void settle() throws SQLException {
    if (schema != null) {
      schema.analyze();
    }
  }

  @Override
  public void start() {
    server.start();
  }

  /**
   * Jobs in JobRunr's {@code SUCCEEDED} state, counted by its storage. JobRunr moves succeeded jobs
   * to {@code DELETED} after {@code deleteSucceededJobsAfter}, which is {@link #KEEP_SUCCEEDED}
   * here, longer than any measurement.
   *
   * @return the count
   */
  @Override
  public long finished() {
    return storage.countJobs(StateName.SUCCEEDED);
  }

  @Override
  public void close() throws Exception {
    try {
      if (server != null) {
        server.stop();
      }
    } finally {
      server = null;
      scheduler = null;
      try {
        if (storage != null) {
          storage.close();
        }
      } finally {
        storage = null;
        if (schema != null) {
          PostgresSchema s = schema;
          schema = null;
          s.close();
        }
      }
    }
  }
}
