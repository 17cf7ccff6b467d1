package dev.workgate.scheduler.internal;

import dev.workgate.core.ResourceRequest;
import dev.workgate.core.Subscription;
import dev.workgate.core.WorkOrderId;
import dev.workgate.scheduler.MemoryProbe;
import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceConfig;
import dev.workgate.scheduler.ResourceHealthReport;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;
import dev.workgate.spi.Capacity;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides how much work a node may start: it keeps the {@link SlotLease}s of admitted work orders,
 * reads memory through a {@link MemoryProbe}, and turns both into the {@link Capacity} a claim may
 * take.
 *
 * <h2>Admission</h2>
 *
 * A work order needs its {@link #effective effective} request: its declared slots, and its declared
 * memory or, if it declares none, {@code memoryPerSlotMb × slots}. {@link #claimable()} offers
 *
 * <ul>
 *   <li>slots: {@code maxConcurrent} minus the active slots under {@link PressureLevel#NONE};
 *       {@code max(1, maxConcurrent / 2)} minus the active slots under {@link
 *       PressureLevel#WARNING}; none under {@link PressureLevel#CRITICAL};
 *   <li>memory: the least of the budget left ({@code memoryBudgetMb} minus reserved memory, when a
 *       budget is set) and the memory the last reading found available, minus {@code
 *       minFreeMemoryMb}, minus the memory of leases granted since that reading or within the
 *       allocation grace (a minute by default: their work is still starting, so the reading does
 *       not show its memory in use). Under CRITICAL, none.
 * </ul>
 *
 * <p>Halving the slot limit under WARNING halves both the steady-state rate at which work orders
 * start and the rate at which the node's memory grows, while still letting work through, so a node
 * near its limit slows down before it has to stop. A node with one slot keeps one.
 *
 * <h2>Pressure and readings</h2>
 *
 * {@link #refresh()} reads the probe and moves the pressure level with hysteresis: the level rises
 * as soon as the used fraction reaches a threshold (NONE may jump to CRITICAL) and falls only when
 * the fraction drops below {@code threshold − hysteresis}. The monitor never reads the probe on its
 * own; the scheduler calls {@link #refresh()} on its tick, before it claims.
 *
 * <p>If the probe throws, the monitor logs a warning (once per run of failures, and again when the
 * probe recovers) and keeps its previous reading and level, so a probe that breaks under pressure
 * does not make the node look idle. If there has never been a successful reading, available memory
 * is unknown: only the slot limit and the memory budget limit admission, and a node that must not
 * run without knowing its memory should set a budget.
 *
 * <h2>Thread safety</h2>
 *
 * Thread-safe. Leases, counters, the last reading and the level are guarded by one lock, so {@link
 * #tryAcquire} checks and reserves atomically and never over-admits however many threads call it.
 * {@link #refresh()} calls are serialized with each other, and the probe is read outside the main
 * lock, so a slow probe delays other refreshes but not acquires and releases. Listeners are called
 * after the main lock is released.
 *
 * <pre>{@code
 * ResourceMonitor monitor =
 *     new ResourceMonitor(ResourceConfig.agentSandboxes(), MemoryProbes.system(), Clock.systemUTC());
 * monitor.refresh();
 * Optional<SlotLease> lease = monitor.tryAcquire(order.id(), order.spec().resources());
 * // ... run the work order ...
 * lease.ifPresent(monitor::release);
 * }</pre>
 */
public final class ResourceMonitor {
  private static final Logger LOG = LoggerFactory.getLogger(ResourceMonitor.class);

  private final ResourceConfig config;
  private final MemoryProbe probe;
  private final Clock clock;

  private final Object lock = new Object();
  private final ReentrantLock refreshLock = new ReentrantLock();
  private final CopyOnWriteArrayList<Registration> listeners = new CopyOnWriteArrayList<>();

  // Guarded by lock.
  private final Map<Long, SlotLease> leases = new LinkedHashMap<>();
  private long nextSequence;
  private int activeSlots;
  private long reservedMemoryMb;
  private PressureLevel level = PressureLevel.NONE;
  private MemoryReading lastReading;
  private Instant lastReadAt;

  /** Leases with a sequence at or above this were granted after the last reading began. */
  private long readingSequence;

  // Guarded by refreshLock.
  private boolean probeFailing;

  /**
   * A monitor with no leases, pressure {@link PressureLevel#NONE} and no reading yet.
   *
   * @param config the limits
   * @param probe where memory readings come from
   * @param clock the clock for lease and reading times
   * @throws NullPointerException if an argument is null
   */
  public ResourceMonitor(ResourceConfig config, MemoryProbe probe, Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.probe = Objects.requireNonNull(probe, "probe");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * A monitor that reads memory with {@link MemoryProbes#system()} and uses the system clock in
   * UTC.
   *
   * @param config the limits
   * @return the monitor
   */
  public static ResourceMonitor create(ResourceConfig config) {
    return new ResourceMonitor(config, MemoryProbes.system(), Clock.systemUTC());
  }

  /**
   * The limits this monitor applies.
   *
   * @return the configuration
   */
  public ResourceConfig config() {
    return config;
  }

  /**
   * Reads the probe once and updates the pressure level. Tells listeners if the level changed. If
   * the probe throws (or returns null), logs a warning once per run of failures and keeps the
   * previous reading and level.
   *
   * @return the pressure level after the reading
   */
  public PressureLevel refresh() {
    refreshLock.lock();
    try {
      long sequenceAtRead;
      synchronized (lock) {
        sequenceAtRead = nextSequence;
      }
      MemoryReading reading;
      try {
        reading = Objects.requireNonNull(probe.read(), "memory probe returned null");
      } catch (RuntimeException e) {
        if (!probeFailing) {
          probeFailing = true;
          LOG.warn(
              "Memory probe failed, keeping the last reading ({}) and pressure {} until it"
                  + " recovers: {}",
              lastReading().map(MemoryReading::source).orElse("none yet"),
              pressure(),
              e.toString());
        } else {
          LOG.debug("Memory probe still failing: {}", e.toString());
        }
        return pressure();
      }
      if (probeFailing) {
        probeFailing = false;
        LOG.info("Memory probe recovered: {}", reading.source());
      }
      Instant now = clock.instant();
      PressureLevel from;
      PressureLevel to;
      synchronized (lock) {
        from = level;
        to = nextLevel(from, reading.usedFraction(), config);
        level = to;
        lastReading = reading;
        lastReadAt = now;
        readingSequence = sequenceAtRead;
      }
      if (from != to) {
        LOG.info(
            "Memory pressure {} -> {}: {} of {} MiB used ({})",
            from,
            to,
            reading.usedMb(),
            reading.totalMb(),
            reading.source());
        for (Registration r : listeners) {
          r.deliver(l -> l.pressureChanged(from, to, reading), "pressureChanged");
        }
      }
      return to;
    } finally {
      refreshLock.unlock();
    }
  }

  /**
   * The level after a reading, with hysteresis: the level rises at once to the level of the used
   * fraction (NONE may jump to CRITICAL), and falls no lower than the level the fraction would have
   * with every threshold lowered by the hysteresis, so it leaves a level only when the fraction
   * drops below {@code threshold − hysteresis}.
   */
  static PressureLevel nextLevel(PressureLevel current, double used, ResourceConfig config) {
    double h = config.hysteresis();
    PressureLevel rising = levelAt(used, config.warningThreshold(), config.criticalThreshold());
    PressureLevel floor =
        levelAt(used, config.warningThreshold() - h, config.criticalThreshold() - h);
    PressureLevel falling = current.compareTo(floor) <= 0 ? current : floor;
    return rising.compareTo(falling) >= 0 ? rising : falling;
  }

  private static PressureLevel levelAt(double used, double warning, double critical) {
    if (used >= critical) {
      return PressureLevel.CRITICAL;
    }
    if (used >= warning) {
      return PressureLevel.WARNING;
    }
    return PressureLevel.NONE;
  }

  /**
   * The pressure level as of the last successful {@link #refresh()}; {@link PressureLevel#NONE}
   * before any.
   *
   * @return the level
   */
  public PressureLevel pressure() {
    synchronized (lock) {
      return level;
    }
  }

  /**
   * The last successful reading.
   *
   * @return the reading, or empty if the probe has never been read successfully
   */
  public Optional<MemoryReading> lastReading() {
    synchronized (lock) {
      return Optional.ofNullable(lastReading);
    }
  }

  /**
   * What a work order reserves when admitted: its declared slots, and its declared memory or, if it
   * declares none, {@code memoryPerSlotMb × slots} (which stays 0 when no memory per slot is set).
   *
   * @param declared what the work order declares
   * @return the request the monitor reserves
   * @throws NullPointerException if {@code declared} is null
   */
  public ResourceRequest effective(ResourceRequest declared) {
    return Objects.requireNonNull(declared, "declared").withMemoryDefault(config.memoryPerSlotMb());
  }

  /**
   * What a claim may take now, given the pressure level, the active leases, the budget and the last
   * reading (see the class description). A request fits if its {@link #effective effective} form
   * fits.
   *
   * @return the capacity, {@code Capacity.of(0, 0)} under {@link PressureLevel#CRITICAL}
   */
  public Capacity claimable() {
    synchronized (lock) {
      return claimableLocked();
    }
  }

  private Capacity claimableLocked() {
    if (level == PressureLevel.CRITICAL) {
      return Capacity.of(0, 0);
    }
    int limit =
        level == PressureLevel.WARNING
            ? Math.max(1, config.maxConcurrent() / 2)
            : config.maxConcurrent();
    int slots = Math.max(0, limit - activeSlots);
    long memory = Long.MAX_VALUE;
    if (config.memoryBudgetMb() > 0) {
      memory = Math.max(0, config.memoryBudgetMb() - reservedMemoryMb);
    }
    if (lastReading != null) {
      long available = lastReading.availableMb() - config.minFreeMemoryMb() - notYetAllocatedMb();
      memory = Math.min(memory, Math.max(0, available));
    }
    return Capacity.of(slots, memory);
  }

  /**
   * Memory of leases that the last reading cannot show in use yet: granted after it, or so recently
   * (within the allocation grace) that their work may still be starting up.
   */
  private long notYetAllocatedMb() {
    Instant recent = clock.instant().minus(config.allocationGrace());
    long mb = 0;
    for (SlotLease l : leases.values()) {
      if (l.sequence() >= readingSequence || l.acquiredAt().isAfter(recent)) {
        mb += l.resources().memoryMb();
      }
    }
    return mb;
  }

  /**
   * Reserves what a work order needs if it fits {@link #claimable()} now; the check and the
   * reservation are one atomic step. The monitor does not check whether the work order already
   * holds a lease.
   *
   * @param id the work order
   * @param declared what it declares; the lease holds {@link #effective effective(declared)}
   * @return the lease, or empty if it does not fit now
   * @throws NullPointerException if an argument is null
   */
  public Optional<SlotLease> tryAcquire(WorkOrderId id, ResourceRequest declared) {
    Objects.requireNonNull(id, "id");
    ResourceRequest need = effective(declared);
    Instant now = clock.instant();
    synchronized (lock) {
      if (!claimableLocked().fits(need)) {
        return Optional.empty();
      }
      long sequence = nextSequence++;
      SlotLease lease = new SlotLease(this, id, need, now, sequence);
      leases.put(sequence, lease);
      activeSlots += need.slots();
      reservedMemoryMb += need.memoryMb();
      return Optional.of(lease);
    }
  }

  /**
   * Frees a lease's slots and memory and tells listeners that a slot is available. Idempotent: only
   * the first call for a lease frees anything or tells anyone.
   *
   * @param lease a lease this monitor granted
   * @return true if this call released it, false if it was already released
   * @throws NullPointerException if the lease is null
   * @throws IllegalArgumentException if another monitor granted the lease
   */
  public boolean release(SlotLease lease) {
    Objects.requireNonNull(lease, "lease");
    if (lease.owner() != this) {
      throw new IllegalArgumentException(
          "lease of work order " + lease.workOrderId().value() + " belongs to another monitor");
    }
    synchronized (lock) {
      if (lease.isReleased()) {
        return false;
      }
      lease.markReleased();
      leases.remove(lease.sequence());
      activeSlots -= lease.resources().slots();
      reservedMemoryMb -= lease.resources().memoryMb();
    }
    for (Registration r : listeners) {
      r.deliver(l -> l.slotAvailable(this), "slotAvailable");
    }
    return true;
  }

  /**
   * Slots held by unreleased leases.
   *
   * @return at least 0
   */
  public int activeSlots() {
    synchronized (lock) {
      return activeSlots;
    }
  }

  /**
   * The slot limit without pressure: {@link ResourceConfig#maxConcurrent()}.
   *
   * @return at least 1
   */
  public int maxSlots() {
    return config.maxConcurrent();
  }

  /**
   * Memory reserved by unreleased leases.
   *
   * @return MiB, at least 0
   */
  public long reservedMemoryMb() {
    synchronized (lock) {
      return reservedMemoryMb;
    }
  }

  /**
   * The unreleased leases, oldest first.
   *
   * @return an immutable snapshot
   */
  public List<SlotLease> leases() {
    synchronized (lock) {
      return List.copyOf(new ArrayList<>(leases.values()));
    }
  }

  /**
   * Whether a work order could be admitted on an idle node without pressure: its effective slots
   * are within {@code maxConcurrent}, and its effective memory within the budget (if set) and
   * within the last reading's total minus {@code minFreeMemoryMb} (if there is a reading). A work
   * order for which this is false would wait forever here.
   *
   * @param declared what the work order declares
   * @return true if it can ever fit
   * @throws NullPointerException if {@code declared} is null
   */
  public boolean couldEverFit(ResourceRequest declared) {
    ResourceRequest need = effective(declared);
    if (need.slots() > config.maxConcurrent()) {
      return false;
    }
    if (config.memoryBudgetMb() > 0 && need.memoryMb() > config.memoryBudgetMb()) {
      return false;
    }
    MemoryReading reading;
    synchronized (lock) {
      reading = lastReading;
    }
    return reading == null || need.memoryMb() <= reading.totalMb() - config.minFreeMemoryMb();
  }

  /**
   * The most memory one work order could ever be given here, as {@link #couldEverFit} judges it:
   * the smaller of the budget (if set) and the last reading's total minus {@code minFreeMemoryMb}
   * (if there is a reading). What a node advertises in the node table.
   *
   * @return megabytes, or 0 when there is neither a budget nor a reading (no limit known)
   */
  public long memoryCeilingMb() {
    MemoryReading reading;
    synchronized (lock) {
      reading = lastReading;
    }
    long ceiling = config.memoryBudgetMb() > 0 ? config.memoryBudgetMb() : Long.MAX_VALUE;
    if (reading != null) {
      ceiling = Math.min(ceiling, Math.max(1, reading.totalMb() - config.minFreeMemoryMb()));
    }
    return ceiling == Long.MAX_VALUE ? 0 : ceiling;
  }

  /**
   * Registers a listener. Registering the same listener twice makes two registrations.
   *
   * @param listener the listener
   * @return the subscription that ends the registration; closing it is idempotent, and once {@code
   *     close()} returns no call reaches the listener (a call in progress on another thread is
   *     waited for; a listener may close its own subscription)
   * @throws NullPointerException if the listener is null
   */
  public Subscription addListener(ResourceListener listener) {
    Registration r = new Registration(Objects.requireNonNull(listener, "listener"));
    listeners.add(r);
    return () -> {
      r.close();
      listeners.remove(r);
    };
  }

  /**
   * A snapshot for health endpoints. Before the first successful reading the memory fields are 0,
   * {@code readAt} is null and the source is {@link ResourceHealthReport#NO_READING}.
   *
   * @return the report
   */
  public ResourceHealthReport health() {
    synchronized (lock) {
      MemoryReading r = lastReading;
      return new ResourceHealthReport(
          r == null ? 0 : r.totalMb(),
          r == null ? 0 : r.usedMb(),
          r == null ? 0 : r.availableMb(),
          level,
          activeSlots,
          config.maxConcurrent(),
          reservedMemoryMb,
          lastReadAt,
          r == null ? ResourceHealthReport.NO_READING : r.source());
    }
  }

  @Override
  public String toString() {
    return "ResourceMonitor" + health();
  }

  /**
   * One listener registration. Delivery holds the read lock and close takes the write lock, so no
   * call starts after close returns; a listener closing its own registration from inside a call
   * (holding the read lock on this thread) only sets the flag.
   */
  private static final class Registration {
    private final ResourceListener listener;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private volatile boolean closed;

    Registration(ResourceListener listener) {
      this.listener = listener;
    }

    void deliver(Consumer<ResourceListener> call, String what) {
      if (closed) {
        return;
      }
      gate.readLock().lock();
      try {
        if (!closed) {
          call.accept(listener);
        }
      } catch (RuntimeException e) {
        LOG.warn("Resource listener {} threw from {}", listener, what, e);
      } finally {
        gate.readLock().unlock();
      }
    }

    void close() {
      if (gate.getReadHoldCount() > 0) {
        closed = true;
        return;
      }
      gate.writeLock().lock();
      try {
        closed = true;
      } finally {
        gate.writeLock().unlock();
      }
    }
  }
}
