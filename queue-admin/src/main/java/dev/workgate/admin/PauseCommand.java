package dev.workgate.admin;

import dev.workgate.core.store.QueueAction;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code pause}: {@code WorkgateClient.pauseQueue} over the store, as every node shares it: no
 * claim that begins afterwards takes work from the queue, on any node, until it is resumed.
 */
@Command(
    name = "pause",
    mixinStandardHelpOptions = true,
    description = {
      "Pauses a queue on every node that shares the store: no claim that begins afterwards takes"
          + " work from it until it is resumed (workgate-admin resume). Work already running"
          + " finishes; submits to the queue still succeed and wait. Recorded with who paused it"
          + " and why; durable across restarts.",
      "Pausing a queue that is paused changes nothing and says who paused it."
    })
final class PauseCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<queue>", description = "The queue.")
  String queue;

  @Option(
      names = "--reason",
      required = true,
      paramLabel = "<reason>",
      description = "Why, for the operators who find it paused (at most 2000 characters).")
  String reason;

  @Option(
      names = "--by",
      paramLabel = "<actor>",
      description =
          "Who pauses it (at most 200 characters). Default: the OS user name, else"
              + " workgate-admin.")
  String by;

  @Override
  public Integer call() {
    if (reason.isBlank()) {
      throw new ParameterException(
          spec.commandLine(), "--reason must not be blank: say why the queue is paused");
    }
    String actor = by == null ? QueueActionCommands.defaultActor() : by;
    QueueAction action =
        QueueActionCommands.checked(admin, queue, QueueAction.Kind.PAUSE, actor, reason);
    QueueActionCommands.Done done = QueueActionCommands.record(admin, action);
    PrintWriter out = spec.commandLine().getOut();
    if (!done.changed()) {
      out.println(
          "queue '"
              + queue
              + "' was already paused"
              + done.pause().map(p -> " " + QueueActionCommands.describe(p)).orElse("")
              + "; nothing was changed");
      return WorkgateAdmin.EXIT_OK;
    }
    out.println(
        "paused queue '"
            + queue
            + "' "
            + QueueActionCommands.describe(done.pause().orElse(action)));
    out.println(
        "no node claims from it until it is resumed (workgate-admin resume "
            + queue
            + "); "
            + QueueActionCommands.backlog(done.counts(), queue));
    QueueActionCommands.noteUnknown(spec.commandLine().getErr(), done.counts(), queue);
    return WorkgateAdmin.EXIT_OK;
  }
}
