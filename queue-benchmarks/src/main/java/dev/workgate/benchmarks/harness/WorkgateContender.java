package dev.workgate.benchmarks.harness;

import dev.workgate.WorkResult;
import dev.workgate.Workgate;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.PostgresOptions;
import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.Stores;
import dev.workgate.core.store.WorkOrderStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Workgate on one of its three stores, configured as its documentation says a host embeds it: a
 * no-op in-process handler, {@code maxConcurrent} equal to the worker count, everything else at its
 * default (1 s poll interval, which only matters when no wake-up arrives; default retry policy and
 * timeout; transition log lines at DEBUG, so not printed). A backlog is submitted with {@link
 * Workgate#submitAll} in batches of {@value #BATCH}. Not thread-safe: one harness thread drives it.
 */
public final class WorkgateContender implements Contender {
  /** Work orders per {@code submitAll} call when filling a backlog. */
  static final int BATCH = 1_000;

  private static final String TYPE = "noop";

  /** Which store. */
  public enum Kind {
    /** {@link Stores#inMemory()}. */
    MEMORY,
    /** {@link Stores#sqlite(Path)} on a new file, at its default {@code synchronous=FULL}. */
    SQLITE,
    /** {@link Stores#postgres} on a schema of its own. */
    POSTGRES
  }

  private final Kind kind;
  private Workgate workgate;
  private final LongAdder completed = new LongAdder();
  private WorkOrderStore store;
  private PostgresSchema schema;
  private Path dir;

  /**
   * A contender on a store of this kind.
   *
   * @param kind the store
   */
  public WorkgateContender(Kind kind) {
    this.kind = kind;
  }

  @Override
  public String name() {
    return "workgate/" + kind.name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void open(int workers, Recorder recorder) throws Exception {
    dir = Files.createTempDirectory("workgate-bench-");
    switch (kind) {
      case MEMORY:
        store = Stores.inMemory();
        break;
      case SQLITE:
        store = Stores.sqlite(dir.resolve("workgate.db"));
        break;
      case POSTGRES:
        schema = PostgresSchema.create("workgate", PostgresSchema.POOL_SIZE);
        store = postgresStore(schema);
        break;
      default:
        throw new IllegalArgumentException("unknown kind " + kind);
    }
    workgate = node(store, "bench", workers, dir.resolve("sandboxes"), recorder);
    completed.reset();
    workgate.onTransition(
        change -> {
          if (change.to() == WorkOrderState.COMPLETED) {
            completed.increment();
          }
        });
  }

  /** The PostgreSQL store on {@code schema}'s pool and schema. */
  static WorkOrderStore postgresStore(PostgresSchema schema) {
    return Stores.postgres(
        schema.dataSource(), PostgresOptions.builder().schema(schema.name()).build());
  }

  /**
   * A node configured as this class documents, not started: the single node of this contender and
   * each node of the harness's multi-node shape are built here, so that both measure the same
   * configuration.
   */
  static Workgate node(
      WorkOrderStore store, String nodeId, int workers, Path sandboxRoot, Recorder recorder) {
    return Workgate.builder()
        .store(store)
        .nodeId(nodeId)
        .maxConcurrent(workers)
        .sandboxRoot(sandboxRoot)
        .handler(
            TYPE,
            ctx -> {
              recorder.started(ctx.payload(Integer.class));
              return WorkResult.ok();
            })
        .build();
  }

  /** Submits jobs {@code from} to {@code from + count - 1} through {@code submitAll} in batches. */
  static void submitBacklog(Consumer<List<WorkOrderSpec>> submitAll, int from, int count) {
    List<WorkOrderSpec> batch = new ArrayList<>(BATCH);
    for (int i = from; i < from + count; i++) {
      batch.add(spec(i));
      if (batch.size() == BATCH) {
        submitAll.accept(batch);
        batch = new ArrayList<>(BATCH);
      }
    }
    if (!batch.isEmpty()) {
      submitAll.accept(batch);
    }
  }

  @Override
  public void submitBacklog(int from, int count) {
    submitBacklog(workgate::submitAll, from, count);
  }

  @Override
  public void submitOne(int index) {
    workgate.submit(spec(index));
  }

  private static WorkOrderSpec spec(int index) {
    return WorkOrderSpec.builder(TYPE).payload(index).build();
  }

  @Override
  public void settle() throws Exception {
    if (schema != null) {
      schema.analyze();
    }
  }

  @Override
  public void start() {
    workgate.start();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Counted as db-scheduler's contender counts: by the node's own listener, which hears each
   * {@code Completed} after the store has it ({@link Workgate#onTransition}), so that the harness's
   * polling puts no queries on the database under test; {@link #recordedFinished} reads the store.
   */
  @Override
  public long finished() {
    return completed.sum();
  }

  @Override
  public long recordedFinished() {
    return store.counts().count(WorkOrderState.COMPLETED);
  }

  /**
   * Verifies the store: replays its log and compares every work order's fold with its projection
   * row ({@link WorkOrderStore#rebuildProjection} in {@link RebuildMode#VERIFY} mode, which changes
   * nothing). Only for the durable stores; the harness calls it after a drain, off the clock.
   *
   * @return what the verification found, or null on the in-memory store
   */
  public RebuildReport verify() {
    return kind == Kind.MEMORY ? null : store.rebuildProjection(RebuildMode.VERIFY);
  }

  @Override
  public void close() throws Exception {
    try {
      if (workgate != null) {
        workgate.close();
      }
      if (store != null) {
        store.close();
      }
      if (schema != null) {
        schema.close();
      }
    } finally {
      workgate = null;
      store = null;
      schema = null;
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
