package dev.workgate.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.workgate.core.internal.Json;
import dev.workgate.core.internal.Text;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What a caller submits: the work order's type (which selects its handler or sandbox recipe), its
 * queue, payload, priority, resources, limits and labels. Built and validated by {@link #builder},
 * then immutable and thread-safe.
 *
 * <pre>{@code
 * WorkOrderSpec spec = WorkOrderSpec.builder("agent-run")
 *     .queue("agents")
 *     .payload(Map.of("repo", "acme/api", "task", "fix the flaky test"))
 *     .priority(5)
 *     .resources(ResourceRequest.of(1, 4096))
 *     .timeout(Duration.ofMinutes(30))
 *     .build();
 * }</pre>
 */
public final class WorkOrderSpec {

  /** The queue a work order goes to when its spec names none. */
  public static final String DEFAULT_QUEUE = "default";

  /**
   * The most work orders one spec may wait for, counting those of its batches: as many as one batch
   * may hold, so that one work order can fan in a whole batch.
   */
  public static final int MAX_DEPENDENCIES = 1_000;

  /** The most batches one spec may wait for. */
  public static final int MAX_BATCH_DEPENDENCIES = 16;

  private final String type;
  private final String queue;
  private final JsonNode payload;
  private final int priority;
  private final ResourceRequest resources;
  private final Integer maxAttempts;
  private final Duration timeout;
  private final Instant notBefore;
  private final String idempotencyKey;
  private final Map<String, String> labels;
  private final List<WorkOrderId> after;
  private final List<BatchId> afterBatches;
  private final DependencyFailure onDependencyFailure;

  private WorkOrderSpec(BuilderImpl b, JsonNode payload) {
    this.type = b.type;
    this.queue = b.queue;
    this.payload = payload;
    this.priority = b.priority;
    this.resources = b.resources;
    this.maxAttempts = b.maxAttempts;
    this.timeout = b.timeout;
    this.notBefore = b.notBefore;
    this.idempotencyKey = b.idempotencyKey;
    this.labels = Map.copyOf(b.labels);
    this.after = List.copyOf(b.after);
    this.afterBatches = List.copyOf(b.afterBatches);
    this.onDependencyFailure = b.onDependencyFailure;
  }

  /**
   * A builder for a work order of the given type. The type is checked by {@link Builder#build()}.
   *
   * @param type the work order's type; selects its handler or sandbox recipe
   * @return a new builder; builders are not thread-safe
   */
  public static Builder builder(String type) {
    return new BuilderImpl(type);
  }

  /**
   * A builder that starts from this spec's values.
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    BuilderImpl b = new BuilderImpl(type);
    b.queue = queue;
    b.payload = payload;
    b.priority = priority;
    b.resources = resources;
    b.maxAttempts = maxAttempts;
    b.timeout = timeout;
    b.notBefore = notBefore;
    b.idempotencyKey = idempotencyKey;
    b.labels.putAll(labels);
    b.after.addAll(after);
    b.afterBatches.addAll(afterBatches);
    b.onDependencyFailure = onDependencyFailure;
    return b;
  }

  /**
   * The type.
   *
   * @return a non-blank type name
   */
  public String type() {
    return type;
  }

  /**
   * The queue.
   *
   * @return a non-blank queue name, {@value #DEFAULT_QUEUE} unless set
   */
  public String queue() {
    return queue;
  }

  /**
   * The payload as JSON.
   *
   * @return a copy of the payload; a JSON null when none was given
   */
  public JsonNode payload() {
    return payload.deepCopy();
  }

  /**
   * The priority; higher runs first.
   *
   * @return the priority, 0 unless set
   */
  public int priority() {
    return priority;
  }

  /**
   * The resources the spec asks for.
   *
   * @return the request, or empty when the spec leaves it to the runtime's default
   */
  public Optional<ResourceRequest> resources() {
    return Optional.ofNullable(resources);
  }

  /**
   * The attempts allowed in all, overriding the queue's retry policy.
   *
   * @return the limit, or empty to use the policy's
   */
  public OptionalInt maxAttempts() {
    return maxAttempts == null ? OptionalInt.empty() : OptionalInt.of(maxAttempts);
  }

  /**
   * How long one attempt may run.
   *
   * @return the timeout, or empty for the runtime's default
   */
  public Optional<Duration> timeout() {
    return Optional.ofNullable(timeout);
  }

  /**
   * The earliest time the work order may start.
   *
   * @return the time, or empty to start as soon as resources allow
   */
  public Optional<Instant> notBefore() {
    return Optional.ofNullable(notBefore);
  }

  /**
   * The idempotency key: a second submission with the same key returns the first work order.
   *
   * @return the key, or empty
   */
  public Optional<String> idempotencyKey() {
    return Optional.ofNullable(idempotencyKey);
  }

  /**
   * Free-form labels.
   *
   * @return an immutable map
   */
  public Map<String, String> labels() {
    return labels;
  }

  /**
   * The work orders this one waits for, as the caller named them: it starts only once each has
   * {@link WorkOrderState#COMPLETED}. At submission each is replaced by the newest work order
   * resubmitted from it, if any; the view's {@link WorkOrderView#dependencies()} holds what the
   * work order really waits for.
   *
   * @return an immutable list without repeats, in the order given; empty for none
   */
  public List<WorkOrderId> after() {
    return after;
  }

  /**
   * The batches this work order waits for: it waits for every work order of each (fan-in).
   *
   * @return an immutable list without repeats, in the order given; empty for none
   */
  public List<BatchId> afterBatches() {
    return afterBatches;
  }

  /**
   * Whether this work order waits for others.
   *
   * @return true if {@link #after()} or {@link #afterBatches()} is not empty
   */
  public boolean hasDependencies() {
    return !after.isEmpty() || !afterBatches.isEmpty();
  }

  /**
   * What happens when a work order this one waits for ends other than {@link
   * WorkOrderState#COMPLETED}.
   *
   * @return the policy, {@link DependencyFailure#CANCEL} unless set
   */
  public DependencyFailure onDependencyFailure() {
    return onDependencyFailure;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof WorkOrderSpec s
        && type.equals(s.type)
        && queue.equals(s.queue)
        && payload.equals(s.payload)
        && priority == s.priority
        && Objects.equals(resources, s.resources)
        && Objects.equals(maxAttempts, s.maxAttempts)
        && Objects.equals(timeout, s.timeout)
        && Objects.equals(notBefore, s.notBefore)
        && Objects.equals(idempotencyKey, s.idempotencyKey)
        && labels.equals(s.labels)
        && after.equals(s.after)
        && afterBatches.equals(s.afterBatches)
        && onDependencyFailure == s.onDependencyFailure;
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, queue, payload, priority, resources, maxAttempts, timeout, notBefore);
  }

  @Override
  public String toString() {
    return "WorkOrderSpec[type="
        + type
        + ", queue="
        + queue
        + ", priority="
        + priority
        + ", resources="
        + resources
        + ", maxAttempts="
        + maxAttempts
        + ", timeout="
        + timeout
        + ", notBefore="
        + notBefore
        + ", idempotencyKey="
        + idempotencyKey
        + ", labels="
        + labels
        + (after.isEmpty() ? "" : ", after=" + after)
        + (afterBatches.isEmpty() ? "" : ", afterBatches=" + afterBatches)
        + (onDependencyFailure == DependencyFailure.CANCEL
            ? ""
            : ", onDependencyFailure=" + onDependencyFailure)
        + "]";
  }

  /**
   * Collects a spec's values; {@link #build()} validates them all. Not thread-safe.
   *
   * <p>Setters take any value; {@code build()} throws {@link IllegalArgumentException} naming the
   * first field that is wrong and its value.
   */
  public interface Builder {
    /**
     * The queue.
     *
     * @param name non-blank queue name; default {@value WorkOrderSpec#DEFAULT_QUEUE}
     * @return this builder
     */
    Builder queue(String name);

    /**
     * The payload: any value Jackson can serialise, or a {@link JsonNode}. It is serialised and
     * parsed again by {@link #build()}, so the spec holds exactly what a store reads back (numbers
     * as Jackson parses them: ints, longs, big integers, doubles) and later changes to the object
     * do not reach the spec. It may nest at most 1000 deep and be at most {@link
     * Text#MAX_VALUE_BYTES} bytes as JSON; its strings and keys must be well-formed UTF-16 (an
     * unpaired surrogate is refused, since the SQL stores could not keep it).
     *
     * @param value the payload, or null for a JSON null
     * @return this builder
     */
    Builder payload(Object value);

    /**
     * The priority; higher runs first.
     *
     * @param priority any int; default 0
     * @return this builder
     */
    Builder priority(int priority);

    /**
     * Slots and memory the work order needs.
     *
     * @param request the request; default: the runtime's (one slot, the memory of one slot)
     * @return this builder
     */
    Builder resources(ResourceRequest request);

    /**
     * Attempts in all, overriding the queue's retry policy.
     *
     * @param attempts at least 1
     * @return this builder
     */
    Builder maxAttempts(int attempts);

    /**
     * How long one attempt may run.
     *
     * @param timeout positive
     * @return this builder
     */
    Builder timeout(Duration timeout);

    /**
     * Delays the start until the given time.
     *
     * @param time the earliest start, or null for none
     * @return this builder
     */
    Builder notBefore(Instant time);

    /**
     * A key that makes submission idempotent.
     *
     * @param key a name as {@link Text#requireName} checks it, or null for none
     * @return this builder
     */
    Builder idempotencyKey(String key);

    /**
     * Adds a label; a spec holds at most {@link Text#MAX_LABELS}.
     *
     * @param key a name as {@link Text#requireName} checks it (at most {@link Text#MAX_NAME_LENGTH}
     *     printable chars, well-formed UTF-16)
     * @param value non-null, at most {@link Text#MAX_LABEL_VALUE_LENGTH} chars; NUL and unpaired
     *     surrogates are replaced by U+FFFD
     * @return this builder
     */
    Builder label(String key, String value);

    /**
     * Makes the work order wait for others: it stays {@link WorkOrderState#BLOCKED} until every one
     * has {@link WorkOrderState#COMPLETED}. Each must exist when the spec is submitted (so no cycle
     * can be built); one that was resubmitted is replaced by its newest resubmission. Adds to what
     * earlier calls named; repeats count once. At most {@link WorkOrderSpec#MAX_DEPENDENCIES}.
     *
     * @param dependencies the work orders to wait for
     * @return this builder
     */
    Builder after(WorkOrderId... dependencies);

    /**
     * Makes the work order wait for every work order of a batch (fan-in): as {@link #after} with
     * the batch's work orders at submission, each resubmitted one replaced by its resubmission. At
     * most {@link WorkOrderSpec#MAX_BATCH_DEPENDENCIES} batches.
     *
     * @param batch the batch, which must exist when the spec is submitted
     * @return this builder
     */
    Builder afterBatch(BatchId batch);

    /**
     * What happens when a work order this one waits for fails or is cancelled.
     *
     * @param policy default {@link DependencyFailure#CANCEL}
     * @return this builder
     */
    Builder onDependencyFailure(DependencyFailure policy);

    /**
     * Validates and builds the spec.
     *
     * @return the immutable spec
     * @throws IllegalArgumentException naming the field and value that are wrong: a type, queue,
     *     idempotency key or label key that breaks the name rule of {@link Text#requireName}
     *     (blank, longer than {@link Text#MAX_NAME_LENGTH}, a control character or an unpaired
     *     surrogate), maxAttempts &lt; 1, a timeout that is not positive, a payload Jackson cannot
     *     serialise (or nested deeper than 1000, larger than {@link Text#MAX_VALUE_BYTES} as JSON,
     *     with an unpaired surrogate, or with a number too large for a double), a null label value
     *     or one longer than {@link Text#MAX_LABEL_VALUE_LENGTH}, more than {@link Text#MAX_LABELS}
     *     labels, a null dependency or batch, more than {@link WorkOrderSpec#MAX_DEPENDENCIES}
     *     dependencies or {@link WorkOrderSpec#MAX_BATCH_DEPENDENCIES} batches, a null policy
     */
    WorkOrderSpec build();
  }

  private static final class BuilderImpl implements Builder {
    private final String type;
    private String queue = DEFAULT_QUEUE;
    private Object payload;
    private int priority;
    private ResourceRequest resources;
    private Integer maxAttempts;
    private Duration timeout;
    private Instant notBefore;
    private String idempotencyKey;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private String badLabel;
    private final Set<WorkOrderId> after = new LinkedHashSet<>();
    private final Set<BatchId> afterBatches = new LinkedHashSet<>();
    private DependencyFailure onDependencyFailure = DependencyFailure.CANCEL;
    private String badDependency;

    BuilderImpl(String type) {
      this.type = type;
    }

    @Override
    public Builder queue(String name) {
      this.queue = name;
      return this;
    }

    @Override
    public Builder payload(Object value) {
      this.payload = value;
      return this;
    }

    @Override
    public Builder priority(int priority) {
      this.priority = priority;
      return this;
    }

    @Override
    public Builder resources(ResourceRequest request) {
      this.resources = request;
      return this;
    }

    @Override
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = attempts;
      return this;
    }

    @Override
    public Builder timeout(Duration timeout) {
      this.timeout = timeout;
      return this;
    }

    @Override
    public Builder notBefore(Instant time) {
      this.notBefore = time;
      return this;
    }

    @Override
    public Builder idempotencyKey(String key) {
      this.idempotencyKey = key;
      return this;
    }

    @Override
    public Builder label(String key, String value) {
      if (key == null || key.isBlank()) {
        badLabel = badLabel != null ? badLabel : "label key must not be blank, got: " + quote(key);
      } else if (value == null) {
        badLabel = badLabel != null ? badLabel : "label '" + key + "' must have a value, got null";
      } else {
        labels.put(key, value);
      }
      return this;
    }

    @Override
    public Builder after(WorkOrderId... dependencies) {
      if (dependencies == null) {
        badDependency = badDependency != null ? badDependency : "after() needs ids, got null";
        return this;
      }
      for (WorkOrderId id : dependencies) {
        if (id == null) {
          badDependency =
              badDependency != null ? badDependency : "a dependency must not be null (after)";
        } else {
          after.add(id);
        }
      }
      return this;
    }

    @Override
    public Builder afterBatch(BatchId batch) {
      if (batch == null) {
        badDependency =
            badDependency != null ? badDependency : "a batch must not be null (afterBatch)";
      } else {
        afterBatches.add(batch);
      }
      return this;
    }

    @Override
    public Builder onDependencyFailure(DependencyFailure policy) {
      this.onDependencyFailure = policy;
      return this;
    }

    @Override
    public WorkOrderSpec build() {
      Text.requireName(type, "type");
      Text.requireName(queue, "queue");
      if (maxAttempts != null && maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
      if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
        throw new IllegalArgumentException("timeout must be positive, got " + timeout);
      }
      if (idempotencyKey != null) {
        Text.requireName(idempotencyKey, "idempotencyKey (use null for none)");
      }
      if (badLabel != null) {
        throw new IllegalArgumentException(badLabel);
      }
      if (badDependency != null) {
        throw new IllegalArgumentException(badDependency);
      }
      if (onDependencyFailure == null) {
        throw new IllegalArgumentException("onDependencyFailure must not be null");
      }
      if (after.size() > MAX_DEPENDENCIES) {
        throw new IllegalArgumentException(
            "a spec may wait for at most "
                + MAX_DEPENDENCIES
                + " work orders, got "
                + after.size());
      }
      if (afterBatches.size() > MAX_BATCH_DEPENDENCIES) {
        throw new IllegalArgumentException(
            "a spec may wait for at most "
                + MAX_BATCH_DEPENDENCIES
                + " batches, got "
                + afterBatches.size());
      }
      if (Text.limitsApply()) {
        if (labels.size() > Text.MAX_LABELS) {
          throw new IllegalArgumentException(
              "a spec may have at most " + Text.MAX_LABELS + " labels, got " + labels.size());
        }
        for (String key : labels.keySet()) {
          Text.requireName(key, "label key");
        }
      }
      labels.replaceAll(
          (key, value) ->
              Text.requireFreeText(
                  value, "label '" + key + "' value", Text.MAX_LABEL_VALUE_LENGTH));
      JsonNode tree =
          payload == null
              ? NullNode.getInstance()
              : Json.canonicalTree(payload, "payload", Json.Surrogates.REFUSE);
      return new WorkOrderSpec(this, tree);
    }

    private static String quote(String value) {
      return value == null ? "null" : "'" + value + "'";
    }
  }
}
