package dev.workgate.admin;

import dev.workgate.core.store.QueueAction;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code resume}: {@code WorkgateClient.resumeQueue} over the store. */
@Command(
    name = "resume",
    mixinStandardHelpOptions = true,
    description = {
      "Resumes a paused queue: nodes claim from it again (each within its poll interval)."
          + " Recorded with who resumed it and why.",
      "Resuming a queue that is not paused changes nothing."
    })
final class ResumeCommand implements Callable<Integer> {
  @ParentCommand WorkgateAdmin admin;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "<queue>", description = "The queue.")
  String queue;

  @Option(
      names = "--reason",
      paramLabel = "<reason>",
      defaultValue = "",
      description = "Why, for the record (at most 2000 characters). Default: none.")
  String reason;

  @Option(
      names = "--by",
      paramLabel = "<actor>",
      description =
          "Who resumes it (at most 200 characters). Default: the OS user name, else"
              + " workgate-admin.")
  String by;

  @Override
  public Integer call() {
    String actor = by == null ? QueueActionCommands.defaultActor() : by;
    QueueAction action =
        QueueActionCommands.checked(admin, queue, QueueAction.Kind.RESUME, actor, reason);
    QueueActionCommands.Done done = QueueActionCommands.record(admin, action);
    PrintWriter out = spec.commandLine().getOut();
    if (!done.changed()) {
      out.println("queue '" + queue + "' was not paused; nothing was changed");
      return WorkgateAdmin.EXIT_OK;
    }
    out.println(
        "resumed queue '"
            + queue
            + "' by "
            + Formats.oneLine(action.actor())
            + ": nodes claim from it again; "
            + QueueActionCommands.backlog(done.counts(), queue));
    return WorkgateAdmin.EXIT_OK;
  }
}
