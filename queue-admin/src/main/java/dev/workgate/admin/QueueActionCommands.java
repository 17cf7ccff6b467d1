package dev.workgate.admin;

import dev.workgate.WorkgateClient;
import dev.workgate.core.WorkOrderState;
import dev.workgate.core.store.QueueAction;
import dev.workgate.core.store.StoreView.QueueCounts;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.core.store.WorkOrderStore;
import java.io.PrintWriter;
import java.util.Optional;

/**
 * What {@code pause} and {@code resume} share: the default actor, the check of the action before
 * the store is opened, and the client that records it. Stateless.
 */
final class QueueActionCommands {
  /** The actor when {@code --by} is not given and the process has no user name. */
  static final String FALLBACK_ACTOR = "workgate-admin";

  private QueueActionCommands() {}

  /** The OS user running the CLI ({@code user.name}), else {@value #FALLBACK_ACTOR}. */
  static String defaultActor() {
    String user = System.getProperty("user.name");
    return user == null || user.isBlank() ? FALLBACK_ACTOR : user.strip();
  }

  /**
   * Checks an action as the store would, before anything is opened: a bad queue name, a blank or
   * too long actor, a too long reason is a usage error naming what was wrong.
   */
  static QueueAction checked(
      WorkgateAdmin admin, String queue, QueueAction.Kind kind, String by, String reason) {
    try {
      return new QueueAction(queue, kind, admin.clock().instant(), by, reason);
    } catch (IllegalArgumentException e) {
      throw new CliException(e.getMessage(), WorkgateAdmin.EXIT_USAGE);
    }
  }

  /** What one pause or resume did and found. */
  record Done(boolean changed, Optional<QueueAction> pause, QueueCounts counts) {}

  /**
   * Records the action through a client over the store, then reads the queue's pause and counts.
   */
  static Done record(WorkgateAdmin admin, QueueAction action) {
    try (WorkOrderStore store = admin.openStore(OpenMode.EXISTING);
        WorkgateClient client = WorkgateClient.builder(store).clock(admin.clock()).build()) {
      boolean changed =
          action.kind() == QueueAction.Kind.PAUSE
              ? client.pauseQueue(action.queue(), action.actor(), action.reason())
              : client.resumeQueue(action.queue(), action.actor(), action.reason());
      Optional<QueueAction> pause =
          client.pausedQueues().stream().filter(p -> p.queue().equals(action.queue())).findFirst();
      return new Done(changed, pause, store.counts());
    }
  }

  /** {@code 3 work orders wait in it}, and the running ones if any. */
  static String backlog(QueueCounts counts, String queue) {
    long waiting = counts.depth(queue);
    long running =
        counts.count(queue, WorkOrderState.PREPARING) + counts.count(queue, WorkOrderState.RUNNING);
    String text =
        Formats.plural(waiting, "work order") + (waiting == 1 ? " waits" : " wait") + " in it";
    return running == 0 ? text : text + ", " + running + " running";
  }

  /** A note on stderr when the store holds no work order of the queue: a typo pauses nothing. */
  static void noteUnknown(PrintWriter err, QueueCounts counts, String queue) {
    if (!counts.queues().contains(queue)) {
      err.println(
          "note: the store holds no work order of queue '"
              + queue
              + "' (yet): check the name; the queue is "
              + "named as work orders are submitted to it");
    }
  }

  /** {@code by alice since 2026-…Z (reason: …)}. */
  static String describe(QueueAction pause) {
    return "by "
        + Formats.oneLine(pause.actor())
        + " since "
        + Formats.instant(pause.at())
        + (pause.reason().isEmpty() ? "" : " (reason: " + Formats.oneLine(pause.reason()) + ")");
  }
}
