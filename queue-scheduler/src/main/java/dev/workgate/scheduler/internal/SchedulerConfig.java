package dev.workgate.scheduler.internal;

import dev.workgate.core.internal.Text;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How one node's {@link Scheduler} claims work. Immutable and thread-safe; build with {@link
 * #builder()}, whose setters reject bad values with an {@link IllegalArgumentException} naming the
 * setting and the value.
 */
public final class SchedulerConfig {

  /** The queue served when none is named. */
  public static final String DEFAULT_QUEUE = "default";

  /**
   * One second between polls: the loop wakes at once on a local submit, a slot release, a store
   * notification and the next due time, so polling only catches what nothing announced (another
   * node's submissions without notifications, a lost notification).
   */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

  /**
   * Thirty seconds: work held by a dead node comes back within about half a minute, while a node
   * that renews every ten seconds survives two missed renewals (a long GC pause, a slow database).
   */
  public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(30);

  /**
   * Fifteen seconds, half the default lease: a node that has not renewed a lease by 15 s before it
   * expires stops the work itself. That covers the default kill grace of 10 s with 5 s to spare for
   * clock skew between nodes, and leaves the renewal (due after a third of the lease) 5 s of
   * retries before the node gives up. For another lease the default is half of it.
   */
  public static final Duration DEFAULT_SELF_FENCE_MARGIN = DEFAULT_LEASE_DURATION.dividedBy(2);

  /** Up to 16 work orders per claim transaction. */
  public static final int DEFAULT_CLAIM_BATCH_SIZE = 16;

  /**
   * A work order that could run on this node but has waited a minute for resources that smaller
   * work keeps taking reserves them.
   */
  public static final Duration DEFAULT_STARVATION_THRESHOLD = Duration.ofMinutes(1);

  /** Up to 100 expired leases reaped per turn. */
  public static final int DEFAULT_REAP_BATCH_SIZE = 100;

  private final String nodeId;
  private final Set<String> queues;
  private final List<String> queueOrder;
  private final Duration pollInterval;
  private final Duration leaseDuration;
  private final Duration renewInterval;
  private final Duration selfFenceMargin;
  private final int claimBatchSize;
  private final Map<String, Integer> queueConcurrency;
  private final Map<String, Long> maxQueueDepth;
  private final Duration staggerDelay;
  private final double maxStartsPerSecond;
  private final Duration starvationThreshold;
  private final int reapBatchSize;

  private SchedulerConfig(Builder b) {
    this.nodeId = b.nodeId;
    this.queues = Set.copyOf(b.queues);
    this.pollInterval = b.pollInterval;
    this.leaseDuration = b.leaseDuration;
    this.renewInterval = b.renewInterval == null ? b.leaseDuration.dividedBy(3) : b.renewInterval;
    this.selfFenceMargin =
        b.selfFenceMargin == null ? b.leaseDuration.dividedBy(2) : b.selfFenceMargin;
    this.claimBatchSize = b.claimBatchSize;
    this.queueConcurrency = Map.copyOf(b.queueConcurrency);
    this.maxQueueDepth = Map.copyOf(b.maxQueueDepth);
    this.staggerDelay = b.staggerDelay;
    this.maxStartsPerSecond = b.maxStartsPerSecond;
    this.starvationThreshold = b.starvationThreshold;
    this.reapBatchSize = b.reapBatchSize;
    this.queueOrder = List.copyOf(b.queues);
  }

  /**
   * A builder with the defaults: a random node id, the queue {@value #DEFAULT_QUEUE}, 1 s poll, 30
   * s lease renewed every 10 s, a self-fence margin of half the lease, 16 per claim, no per-queue
   * limits, no depth limits, no stagger, no start-rate limit, 1 min starvation threshold.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The defaults.
   *
   * @return a config with a random node id
   */
  public static SchedulerConfig defaults() {
    return builder().build();
  }

  /**
   * The node's id: the owner of its leases.
   *
   * @return the id
   */
  public String nodeId() {
    return nodeId;
  }

  /**
   * The queues this node claims from, in the order it visits them first.
   *
   * @return at least one queue
   */
  public List<String> queues() {
    return queueOrder;
  }

  /**
   * Whether this node claims from a queue.
   *
   * @param queue the queue
   * @return true if served
   */
  public boolean serves(String queue) {
    return queues.contains(queue);
  }

  /**
   * The longest the loop sleeps when nothing wakes it.
   *
   * @return positive
   */
  public Duration pollInterval() {
    return pollInterval;
  }

  /**
   * How long a claim's lease lasts unless renewed.
   *
   * @return positive
   */
  public Duration leaseDuration() {
    return leaseDuration;
  }

  /**
   * How often the leases of running work are renewed.
   *
   * @return positive and shorter than the lease
   */
  public Duration renewInterval() {
    return renewInterval;
  }

  /**
   * How long before its lease expires a node stops work whose lease it could not renew (self-
   * fencing). Another node reaps the lease only once it has expired by that node's clock, so the
   * stopped work has ended before anyone else can start it as long as this margin is longer than
   * the kill grace plus the largest clock difference between any two nodes.
   *
   * @return positive, and shorter than the lease minus the renew interval
   */
  public Duration selfFenceMargin() {
    return selfFenceMargin;
  }

  /**
   * The most work orders one claim takes.
   *
   * @return at least 1
   */
  public int claimBatchSize() {
    return claimBatchSize;
  }

  /**
   * The most work orders of a queue that this node runs at once.
   *
   * @param queue the queue
   * @return the limit, empty when the queue has none
   */
  public OptionalInt queueConcurrency(String queue) {
    Integer limit = queueConcurrency.get(queue);
    return limit == null ? OptionalInt.empty() : OptionalInt.of(limit);
  }

  /**
   * The most work orders that may wait in a queue ({@code PENDING} or {@code WAITING_RETRY}) before
   * submits are refused.
   *
   * @param queue the queue
   * @return the limit, empty when the queue has none
   */
  public Optional<Long> maxQueueDepth(String queue) {
    return Optional.ofNullable(maxQueueDepth.get(queue));
  }

  /**
   * The least time between two starts on this node.
   *
   * @return zero (no stagger) or positive
   */
  public Duration staggerDelay() {
    return staggerDelay;
  }

  /**
   * The most starts per second on this node, averaged over a second.
   *
   * @return 0 for no limit
   */
  public double maxStartsPerSecond() {
    return maxStartsPerSecond;
  }

  /**
   * How long a work order that could run on this node waits for resources before it reserves them.
   *
   * @return positive
   */
  public Duration starvationThreshold() {
    return starvationThreshold;
  }

  /**
   * The most expired leases reaped per turn.
   *
   * @return at least 1
   */
  public int reapBatchSize() {
    return reapBatchSize;
  }

  @Override
  public String toString() {
    return "SchedulerConfig{nodeId="
        + nodeId
        + ", queues="
        + queueOrder
        + ", poll="
        + pollInterval
        + ", lease="
        + leaseDuration
        + ", renew="
        + renewInterval
        + ", selfFenceMargin="
        + selfFenceMargin
        + ", batch="
        + claimBatchSize
        + ", queueConcurrency="
        + queueConcurrency
        + ", maxQueueDepth="
        + maxQueueDepth
        + ", stagger="
        + staggerDelay
        + ", maxStartsPerSecond="
        + maxStartsPerSecond
        + ", starvation="
        + starvationThreshold
        + "}";
  }

  /** Builds a {@link SchedulerConfig}. Not thread-safe. */
  public static final class Builder {
    private static final Duration MAX_INTERVAL = Duration.ofHours(1);

    private String nodeId =
        "node-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    private final Set<String> queues = new LinkedHashSet<>(List.of(DEFAULT_QUEUE));
    private boolean queuesNamed;
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private Duration leaseDuration = DEFAULT_LEASE_DURATION;
    private Duration renewInterval;
    private Duration selfFenceMargin;
    private int claimBatchSize = DEFAULT_CLAIM_BATCH_SIZE;
    private final Map<String, Integer> queueConcurrency = new LinkedHashMap<>();
    private final Map<String, Long> maxQueueDepth = new LinkedHashMap<>();
    private Duration staggerDelay = Duration.ZERO;
    private double maxStartsPerSecond;
    private Duration starvationThreshold = DEFAULT_STARVATION_THRESHOLD;
    private int reapBatchSize = DEFAULT_REAP_BATCH_SIZE;

    private Builder() {}

    /**
     * The node's id, unique among the nodes sharing a store: it owns this node's leases.
     *
     * @param id a name of at most 200 printable characters
     * @return this builder
     */
    public Builder nodeId(String id) {
      this.nodeId = Text.requireName(id, "nodeId");
      return this;
    }

    /**
     * The queues to claim from, replacing the default {@value #DEFAULT_QUEUE}. Adds to earlier
     * calls.
     *
     * @param names queue names
     * @return this builder
     */
    public Builder queues(String... names) {
      if (names == null || names.length == 0) {
        throw new IllegalArgumentException("queues needs at least one queue name");
      }
      if (!queuesNamed) {
        queues.clear();
        queuesNamed = true;
      }
      for (String name : names) {
        queues.add(Text.requireName(name, "queue"));
      }
      return this;
    }

    /**
     * The longest sleep between turns when nothing wakes the loop.
     *
     * @param interval positive, at most an hour
     * @return this builder
     */
    public Builder pollInterval(Duration interval) {
      this.pollInterval = positive(interval, "pollInterval");
      return this;
    }

    /**
     * How long a claim's lease lasts unless renewed.
     *
     * @param duration positive, at most an hour
     * @return this builder
     */
    public Builder leaseDuration(Duration duration) {
      this.leaseDuration = positive(duration, "leaseDuration");
      return this;
    }

    /**
     * How often running work's leases are renewed; default a third of the lease.
     *
     * @param interval positive and shorter than the lease
     * @return this builder
     */
    public Builder renewInterval(Duration interval) {
      this.renewInterval = positive(interval, "renewInterval");
      return this;
    }

    /**
     * How long before its lease expires the node stops work whose lease it has not renewed: from
     * then on another node may take the work order over (see {@link
     * SchedulerConfig#selfFenceMargin()}). Make it longer than the execution's kill grace plus the
     * largest clock skew between nodes. Default half the lease ({@link #DEFAULT_SELF_FENCE_MARGIN}
     * for the default lease).
     *
     * @param margin positive, at most an hour; {@link #build()} checks it against the lease and the
     *     renew interval
     * @return this builder
     */
    public Builder selfFenceMargin(Duration margin) {
      this.selfFenceMargin = positive(margin, "selfFenceMargin");
      return this;
    }

    /**
     * The most work orders one claim takes.
     *
     * @param size from 1 to 1,000
     * @return this builder
     */
    public Builder claimBatchSize(int size) {
      if (size < 1 || size > 1_000) {
        throw new IllegalArgumentException(
            "claimBatchSize must be between 1 and 1000, got " + size);
      }
      this.claimBatchSize = size;
      return this;
    }

    /**
     * The most work orders of a queue this node runs at once.
     *
     * @param queue the queue
     * @param limit at least 1
     * @return this builder
     */
    public Builder queueConcurrency(String queue, int limit) {
      Text.requireName(queue, "queueConcurrency queue");
      if (limit < 1) {
        throw new IllegalArgumentException(
            "queueConcurrency for " + queue + " must be at least 1, got " + limit);
      }
      queueConcurrency.put(queue, limit);
      return this;
    }

    /**
     * The most work orders that may wait in a queue before submits through this node are refused
     * with {@link dev.workgate.core.QueueFullException}.
     *
     * @param queue the queue
     * @param limit at least 1
     * @return this builder
     */
    public Builder maxQueueDepth(String queue, long limit) {
      Text.requireName(queue, "maxQueueDepth queue");
      if (limit < 1) {
        throw new IllegalArgumentException(
            "maxQueueDepth for " + queue + " must be at least 1, got " + limit);
      }
      maxQueueDepth.put(queue, limit);
      return this;
    }

    /**
     * The least time between two starts on this node (AgentGate's {@code staggerDelayMs}). Off by
     * default: a library should not slow fast work unless asked.
     *
     * @param delay zero or positive, at most an hour
     * @return this builder
     */
    public Builder staggerDelay(Duration delay) {
      if (delay == null || delay.isNegative() || delay.compareTo(MAX_INTERVAL) > 0) {
        throw new IllegalArgumentException(
            "staggerDelay must be between 0 and "
                + Text.duration(MAX_INTERVAL)
                + ", got "
                + (delay == null ? null : Text.duration(delay)));
      }
      this.staggerDelay = delay;
      return this;
    }

    /**
     * The most starts per second on this node; bursts up to one second's worth are allowed.
     *
     * @param rate 0 for no limit, else positive and at most 1,000,000
     * @return this builder
     */
    public Builder maxStartsPerSecond(double rate) {
      if (!(rate >= 0 && rate <= 1_000_000)) {
        throw new IllegalArgumentException(
            "maxStartsPerSecond must be between 0 and 1000000, got " + rate);
      }
      this.maxStartsPerSecond = rate;
      return this;
    }

    /**
     * How long a work order that could run here waits for resources before it reserves them.
     *
     * @param threshold positive, at most an hour
     * @return this builder
     */
    public Builder starvationThreshold(Duration threshold) {
      this.starvationThreshold = positive(threshold, "starvationThreshold");
      return this;
    }

    /**
     * The most expired leases reaped per turn.
     *
     * @param size from 1 to 10,000
     * @return this builder
     */
    public Builder reapBatchSize(int size) {
      if (size < 1 || size > 10_000) {
        throw new IllegalArgumentException(
            "reapBatchSize must be between 1 and 10000, got " + size);
      }
      this.reapBatchSize = size;
      return this;
    }

    /**
     * Builds the config.
     *
     * @return the config
     * @throws IllegalArgumentException if the renew interval is not shorter than the lease, or if
     *     the lease minus the self-fence margin leaves no time to renew (the margin plus the renew
     *     interval must be shorter than the lease)
     */
    public SchedulerConfig build() {
      if (renewInterval != null && renewInterval.compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException(
            "renewInterval must be shorter than leaseDuration, got renewInterval "
                + Text.duration(renewInterval)
                + " and leaseDuration "
                + Text.duration(leaseDuration));
      }
      Duration renew = renewInterval == null ? leaseDuration.dividedBy(3) : renewInterval;
      Duration margin = selfFenceMargin == null ? leaseDuration.dividedBy(2) : selfFenceMargin;
      if (margin.plus(renew).compareTo(leaseDuration) >= 0) {
        throw new IllegalArgumentException(
            "selfFenceMargin plus renewInterval must be shorter than leaseDuration, so that a"
                + " lease is renewed before the node must stop its work; got selfFenceMargin "
                + Text.duration(margin)
                + (selfFenceMargin == null ? " (the default, half the lease)" : "")
                + ", renewInterval "
                + Text.duration(renew)
                + " and leaseDuration "
                + Text.duration(leaseDuration));
      }
      return new SchedulerConfig(this);
    }

    private static Duration positive(Duration value, String setting) {
      if (value == null
          || value.isNegative()
          || value.isZero()
          || value.compareTo(MAX_INTERVAL) > 0) {
        throw new IllegalArgumentException(
            setting
                + " must be positive and at most "
                + Text.duration(MAX_INTERVAL)
                + ", got "
                + (value == null ? null : Text.duration(value)));
      }
      return value;
    }
  }
}
