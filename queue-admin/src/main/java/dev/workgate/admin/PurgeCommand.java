package dev.workgate.admin;

import dev.workgate.core.WorkOrderState;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderQuery;
import dev.workgate.core.store.WorkOrderQuery.Page;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code purge}: retention of ended work orders, in batches of whole streams. */
@Command(
    name = "purge",
    mixinStandardHelpOptions = true,
    description =
        "Deletes COMPLETED, FAILED and CANCELLED work orders last updated longer ago than"
            + " --older-than, with all their events, in batches (WorkOrderStore"
            + ".deleteTerminalBefore). Work orders that have not ended are never deleted.")
final class PurgeCommand implements Callable<Integer> {
  static final int DEFAULT_BATCH = 500;

  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Option(
      names = "--older-than",
      required = true,
      paramLabel = "<age>",
      converter = Converters.Age.class,
      description = "How long ago they were last updated: a whole number and d, h or m (7d, 12h).")
  Duration olderThan;

  @Option(names = "--dry-run", description = "Count what would be deleted; delete nothing.")
  boolean dryRun;

  @Option(
      names = "--batch-size",
      paramLabel = "<n>",
      defaultValue = "" + DEFAULT_BATCH,
      description =
          "Work orders per delete transaction (1 to 10000); smaller batches hold the store's"
              + " write lock for shorter. Default: ${DEFAULT-VALUE}.")
  int batchSize;

  @Override
  public Integer call() {
    if (batchSize < 1 || batchSize > WorkOrderQuery.MAX_LIMIT) {
      throw new ParameterException(
          spec.commandLine(),
          "--batch-size must be between 1 and " + WorkOrderQuery.MAX_LIMIT + ", got " + batchSize);
    }
    Instant cutoff = admin.clock().instant().minus(olderThan);
    PrintWriter out = spec.commandLine().getOut();
    // A dry run only counts: read-only, so that a role with SELECT alone may run it.
    try (WorkOrderStore store = admin.openStore(dryRun ? OpenMode.READ_ONLY : OpenMode.EXISTING)) {
      if (dryRun) {
        long n = countBefore(store, cutoff);
        out.println(
            "would delete "
                + n
                + " ended work orders last updated before "
                + Formats.instant(cutoff));
        return WorkgateAdmin.EXIT_OK;
      }
      long total = 0;
      int batches = 0;
      while (true) {
        int n = store.deleteTerminalBefore(cutoff, batchSize);
        total += n;
        if (n > 0) {
          batches++;
        }
        if (n < batchSize) {
          break;
        }
      }
      out.println(
          "deleted "
              + total
              + " ended work orders last updated before "
              + Formats.instant(cutoff)
              + " in "
              + batches
              + (batches == 1 ? " batch" : " batches"));
    }
    return WorkgateAdmin.EXIT_OK;
  }

  /** Pages through the ended work orders, as deleteTerminalBefore would select them. */
  private long countBefore(WorkOrderStore store, Instant cutoff) {
    long n = 0;
    long after = 0;
    while (true) {
      Page<WorkOrderView> page =
          store.query(
              WorkOrderQuery.builder()
                  .states(WorkOrderState.COMPLETED, WorkOrderState.FAILED, WorkOrderState.CANCELLED)
                  .after(after)
                  .limit(WorkOrderQuery.MAX_LIMIT)
                  .build());
      for (WorkOrderView v : page.items()) {
        if (v.updatedAt().isBefore(cutoff)) {
          n++;
        }
      }
      if (!page.hasNext()) {
        return n;
      }
      after = page.nextCursor().getAsLong();
    }
  }
}
