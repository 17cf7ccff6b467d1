package dev.workgate.admin;

import dev.workgate.core.store.RebuildReport;
import dev.workgate.core.store.RebuildReport.ProjectionMismatch;
import dev.workgate.core.store.RebuildReport.RebuildMode;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code verify}: folds the log and compares it with the projection, changing nothing. */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    description = {
      "Folds every work order's events and compares the result with its projection row, column"
          + " by column (rebuildProjection(VERIFY)); changes nothing. Exits 3 if any differ.",
      "It opens the store read-only and reads one snapshot, so writers go on meanwhile."
    })
final class VerifyCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    RebuildReport report;
    try (WorkOrderStore store = admin.openStore(OpenMode.READ_ONLY)) {
      report = store.rebuildProjection(RebuildMode.VERIFY);
    }
    PrintWriter out = spec.commandLine().getOut();
    if (report.consistent()) {
      out.println(
          "projection matches the log: "
              + report.workOrders()
              + " work orders, "
              + report.events()
              + " events");
      return WorkgateAdmin.EXIT_OK;
    }
    for (ProjectionMismatch m : report.mismatches()) {
      out.println(m.workOrderId() + ": " + m.difference());
    }
    out.println(
        report.mismatches().size()
            + " of "
            + report.workOrders()
            + " work orders differ from the log ("
            + report.events()
            + " events); the log is the truth: a program can rewrite the rows with"
            + " WorkOrderStore.rebuildProjection(RebuildMode.REPAIR)");
    return WorkgateAdmin.EXIT_MISMATCH;
  }
}
