package dev.workgate.test;

import dev.workgate.Workgate;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderView;
import dev.workgate.internal.ClockTimer;
import dev.workgate.internal.ManualDrive;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A Workgate node for tests that runs no thread of its own: nothing happens until the test calls
 * {@link #runDue()}, which claims and runs what is due on the caller's thread, and time moves only
 * with {@link #advance(Duration)}. Build it from a {@link Workgate.Builder} with the handlers,
 * store, retry policy and queue settings of the code under test:
 *
 * <pre>{@code
 * try (ManualWorkgate node = ManualWorkgate.of(Workgate.builder()
 *     .handler("greet", ctx -> WorkResult.ok("hello " + ctx.payload(String.class))))) {
 *   WorkOrderId id = node.submit(WorkOrderSpec.builder("greet").payload("world").build());
 *   assertEquals(1, node.runDue());
 *   assertEquals(WorkOrderState.COMPLETED, node.find(id).orElseThrow().state());
 * }
 * }</pre>
 *
 * <p><b>What {@link #runDue()} does.</b> It turns the node's scheduler as its loop would (releases
 * retries whose time has come, claims what fits the node's slots, starts each claimed attempt) and
 * runs every attempt to its end on the calling thread before it returns, then turns again until a
 * turn runs nothing. A work order that fails and whose retry is due at once (zero backoff) is
 * therefore retried within the same call; one whose backoff has not passed waits for {@link
 * #advance} and the next {@code runDue()}. It does not move time, wait, or run anything that is not
 * due: a delayed ({@code notBefore}) work order or a retry still in its backoff stays where it is.
 *
 * <p><b>Timeouts.</b> The node's timers (an attempt's timeout, the kill grace) run on the clock:
 * they fire, on the thread that moves it, as soon as {@link #advance} or {@link
 * MutableClock#advance} takes the clock to their time, and never before. A handler that "takes too
 * long" is modelled by moving the clock from inside the handler, past the attempt's timeout: the
 * timeout then takes effect before {@code advance} returns to the handler, as in the real runtime:
 * the handler's {@link dev.workgate.WorkContext#cancellationRequested()} is true and its thread's
 * interrupt flag is set (a blocking call throws {@link InterruptedException}). Whatever the handler
 * then returns, the attempt is recorded as failed with {@code TIMEOUT} and retried or failed per
 * its retry policy; the interrupt is cleared once the handler returns. The sequence is
 * deterministic: the same test gives the same events every time.
 *
 * <p><b>Time.</b> The node runs on a {@link MutableClock} ({@link #clock()}), set on the builder in
 * place of any clock set there. The default in-memory store uses it; a store passed to the builder
 * should be built on the same clock ({@code Stores.inMemory(clock)}), or delays and leases are
 * measured on another time than the node's.
 *
 * <p><b>Thread-safety.</b> Made to be used from one thread, the test's. Calls from several threads
 * do not corrupt it (turns never overlap, and each runs on its caller), but a handler then runs on
 * whichever thread called {@code runDue}, and a timeout fired by moving the clock on one thread
 * while a handler runs on another waits, on the mover's thread, for up to the kill grace for the
 * handler to stop. {@link #runDue()} from inside a handler is refused.
 */
public final class ManualWorkgate implements AutoCloseable {
  private final Workgate workgate;
  private final MutableClock clock;
  private final ManualDrive drive;
  private final ClockTimer timer;
  private final Runnable fireTimers;
  private final ThreadLocal<Boolean> turning = ThreadLocal.withInitial(() -> false);

  private ManualWorkgate(
      Workgate.Builder builder, MutableClock clock, Function<ClockTimer, ManualDrive> drives) {
    this.clock = clock;
    this.timer = new ClockTimer(clock);
    this.drive = Objects.requireNonNull(drives.apply(timer), "drive");
    if (drive.timer() != timer) {
      throw new IllegalArgumentException("the drive must schedule on the timer it is given");
    }
    this.workgate = builder.clock(clock).manualDrive(drive).build();
    this.fireTimers = timer::fireDue;
    clock.onChange(fireTimers);
    try {
      workgate.reapOrphans(); // what start() does first on a real node
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * A node built from {@code builder} on a new {@link MutableClock} at {@link
   * MutableClock#DEFAULT_START}.
   *
   * @param builder the settings of the node, as for a real one; its clock is replaced, and it must
   *     not be used to build another node
   * @return the node, built; call {@link #close()} when done
   * @throws NullPointerException if {@code builder} is null
   * @throws IllegalArgumentException if the builder's settings are refused by {@link
   *     Workgate.Builder#build()}
   */
  public static ManualWorkgate of(Workgate.Builder builder) {
    return of(builder, new MutableClock());
  }

  /**
   * A node built from {@code builder} on the given clock.
   *
   * @param builder the settings of the node, as for a real one; its clock is replaced by {@code
   *     clock}, and it must not be used to build another node
   * @param clock the node's time; build a store passed to the builder on it too
   * @return the node, built; call {@link #close()} when done
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the builder's settings are refused by {@link
   *     Workgate.Builder#build()}
   */
  public static ManualWorkgate of(Workgate.Builder builder, MutableClock clock) {
    Objects.requireNonNull(builder, "builder must not be null");
    Objects.requireNonNull(clock, "clock must not be null");
    return new ManualWorkgate(builder, clock, ManualDrive::new);
  }

  /**
   * Not API, for the project's deterministic simulation: a node whose drive is made by {@code
   * drives} on the node's timer, typically one that runs attempts on the simulation's cooperative
   * threads ({@link ManualDrive#ManualDrive(java.util.concurrent.ScheduledExecutorService,
   * java.util.concurrent.ExecutorService, java.util.function.Supplier)}). Otherwise as {@link
   * #of(Workgate.Builder, MutableClock)}.
   *
   * @param builder the settings of the node
   * @param clock the node's time
   * @param drives makes the node's drive on the timer it is given
   * @return the node, built
   * @throws IllegalArgumentException if the drive does not schedule on the given timer, or the
   *     builder's settings are refused
   */
  static ManualWorkgate of(
      Workgate.Builder builder, MutableClock clock, Function<ClockTimer, ManualDrive> drives) {
    Objects.requireNonNull(builder, "builder must not be null");
    Objects.requireNonNull(clock, "clock must not be null");
    Objects.requireNonNull(drives, "drives must not be null");
    return new ManualWorkgate(builder, clock, drives);
  }

  /**
   * Claims and runs what is due, on the calling thread, until nothing more is: see the class
   * description.
   *
   * @return how many attempts ran to their end (completed, failed, timed out or cancelled)
   * @throws IllegalStateException if closed, or called from inside a handler of this node
   * @throws RuntimeException whatever the store throws
   */
  public int runDue() {
    if (turning.get()) {
      throw new IllegalStateException("runDue() was called from inside a handler of this node");
    }
    requireOpen();
    long before = drive.attemptsEnded();
    turning.set(true);
    try {
      while (true) {
        long turnStart = drive.attemptsEnded();
        drive.runOnce();
        if (drive.attemptsEnded() == turnStart) {
          break;
        }
      }
    } finally {
      turning.remove();
    }
    return Math.toIntExact(drive.attemptsEnded() - before);
  }

  /**
   * Moves the node's clock forward and fires, on the calling thread, the timers that became due (an
   * attempt's timeout, when called from inside its handler). It claims and runs nothing: call
   * {@link #runDue()} for that.
   *
   * @param by how far; zero fires what is due now
   * @throws NullPointerException if {@code by} is null
   * @throws IllegalArgumentException if {@code by} is negative
   */
  public void advance(Duration by) {
    clock.advance(by);
  }

  /**
   * Submits a work order, as {@link Workgate#submit} does; it runs at the next {@link #runDue()}
   * that finds it due.
   *
   * @param spec what to run
   * @return its id
   * @throws NullPointerException if {@code spec} is null
   * @throws IllegalArgumentException if no handler or sandbox provider serves its type
   * @throws dev.workgate.core.QueueFullException if its queue is at its maximum depth
   * @throws IllegalStateException if closed
   */
  public WorkOrderId submit(WorkOrderSpec spec) {
    return workgate.submit(spec);
  }

  /**
   * A work order's current state.
   *
   * @param id the work order
   * @return its view, empty if unknown
   * @throws NullPointerException if {@code id} is null
   */
  public Optional<WorkOrderView> find(WorkOrderId id) {
    return workgate.find(id);
  }

  /**
   * A work order's events, oldest first.
   *
   * @param id the work order
   * @return the events, empty if unknown
   * @throws NullPointerException if {@code id} is null
   */
  public List<RecordedEvent> history(WorkOrderId id) {
    return workgate.history(id);
  }

  /**
   * The node's clock: moving it (here or with {@link #advance}) fires the node's due timers.
   *
   * @return the clock
   */
  public MutableClock clock() {
    return clock;
  }

  /**
   * The node itself, for what this class does not wrap (cancel, resubmit, stats, transition
   * listeners). Its {@link Workgate#start()} is refused: the node is turned by {@link #runDue()}.
   *
   * @return the node
   */
  public Workgate workgate() {
    return workgate;
  }

  /** Timers waiting for their time, for tests of the kit itself. */
  int pendingTimers() {
    return timer.pending();
  }

  /** Not API, for the project's simulation: the drive that turns the node. */
  ManualDrive drive() {
    return drive;
  }

  /**
   * Not API, for the project's simulation: when the node's earliest timer is due; empty when none
   * waits, or once the node is closed or crashed.
   */
  Optional<Instant> nextTimerDue() {
    return timer.isShutdown() ? Optional.empty() : timer.nextDue();
  }

  /**
   * Not API, for the project's simulation: drops the node as a process that dies. It stops hearing
   * the clock and its waiting timers are dropped; nothing is shut down, killed, released or
   * written, so its leases lapse in the store as a dead node's do. {@link #runDue()} is refused
   * from here on; the node is not to be used or closed after it.
   */
  void crash() {
    clock.removeOnChange(fireTimers);
    timer.shutdownNow();
  }

  /**
   * Closes the node as {@link Workgate#close()} does and stops listening to the clock. Idempotent.
   */
  @Override
  public void close() {
    clock.removeOnChange(fireTimers);
    workgate.close();
  }

  private void requireOpen() {
    if (timer.isShutdown()) {
      throw new IllegalStateException("this ManualWorkgate is closed");
    }
  }
}
