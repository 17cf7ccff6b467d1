package dev.workgate.core.internal.jdbc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.core.BatchId;
import dev.workgate.core.ErrorInfo;
import dev.workgate.core.Progress;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderSpec;
import dev.workgate.core.WorkOrderState;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.WorkOrder;
import dev.workgate.spi.WorkOrderSnapshot;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One projection row, column by column. Times are microseconds since the epoch: the durable stores
 * keep times to the microsecond (PostgreSQL's precision), and an instant outside about ±292,000
 * years saturates.
 */
record Row(
    String id,
    long seq,
    String queue,
    String type,
    String state,
    int priority,
    int slots,
    long memoryMb,
    int attempt,
    long version,
    long submittedAt,
    long updatedAt,
    long availableAt,
    String leaseOwner,
    Long leaseExpiresAt,
    Long nextAttemptAt,
    String idempotencyKey,
    String errorCode,
    String errorMessage,
    Boolean errorRetryable,
    String result,
    String cancellationReason,
    String resubmittedFrom,
    int releases,
    String batchId,
    String checkpoint,
    String progress) {

  /** The columns in the order of the record, for INSERT and SELECT. */
  static final List<String> COLUMNS =
      List.of(
          "id",
          "seq",
          "queue",
          "type",
          "state",
          "priority",
          "slots",
          "memory_mb",
          "attempt",
          "version",
          "submitted_at",
          "updated_at",
          "available_at",
          "lease_owner",
          "lease_expires_at",
          "next_attempt_at",
          "idempotency_key",
          "error_code",
          "error_message",
          "error_retryable",
          "result",
          "cancellation_reason",
          "resubmitted_from",
          "releases",
          "batch_id",
          "checkpoint",
          "progress");

  /**
   * The columns an event can change; the others are fixed at submission. Updates set only these, so
   * that the database does not maintain indexes over columns that never change (SQLite updates
   * every index whose columns are assigned, changed or not).
   */
  static final List<String> MUTABLE_COLUMNS =
      List.of(
          "state",
          "attempt",
          "version",
          "updated_at",
          "available_at",
          "lease_owner",
          "lease_expires_at",
          "next_attempt_at",
          "error_code",
          "error_message",
          "error_retryable",
          "result",
          "cancellation_reason",
          "releases",
          "checkpoint",
          "progress");

  /** The JDBC type of each column, in {@link #COLUMNS} order. */
  private static final int[] TYPES = {
    Types.VARCHAR, Types.BIGINT, Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.INTEGER,
    Types.INTEGER, Types.BIGINT, Types.INTEGER, Types.BIGINT, Types.BIGINT, Types.BIGINT,
    Types.BIGINT, Types.VARCHAR, Types.BIGINT, Types.BIGINT, Types.VARCHAR, Types.VARCHAR,
    Types.VARCHAR, Types.BOOLEAN, Types.VARCHAR, Types.VARCHAR, Types.VARCHAR, Types.INTEGER,
    Types.VARCHAR, Types.VARCHAR, Types.VARCHAR
  };

  /** The positions of {@link #MUTABLE_COLUMNS} in {@link #COLUMNS}. */
  static final int[] MUTABLE = MUTABLE_COLUMNS.stream().mapToInt(COLUMNS::indexOf).toArray();

  /** PostgreSQL's array element type of each column, in {@link #COLUMNS} order. */
  static String sqlType(int column) {
    switch (TYPES[column]) {
      case Types.VARCHAR:
        return "text";
      case Types.BOOLEAN:
        return "boolean";
      case Types.INTEGER:
        return "integer";
      default:
        return "bigint";
    }
  }

  /**
   * The row of a work order.
   *
   * @param w the work order
   * @param seq the position of its Submitted event
   */
  static Row of(WorkOrder w, long seq) {
    WorkOrderSnapshot s = w.snapshot();
    ErrorInfo e = s.lastError();
    return new Row(
        s.id().value(),
        seq,
        w.queue(),
        w.type(),
        s.state().name(),
        w.priority(),
        w.resources().slots(),
        w.resources().memoryMb(),
        s.attempt(),
        s.version(),
        micros(s.submittedAt()),
        micros(s.updatedAt()),
        micros(s.availableAt()),
        s.leaseOwner(),
        microsOrNull(s.leaseExpiresAt()),
        microsOrNull(s.nextAttemptAt()),
        s.spec().idempotencyKey().orElse(null),
        e == null ? null : e.code(),
        e == null ? null : e.message(),
        e == null ? null : e.retryable(),
        s.result() == null ? null : EventCodec.writeValue(s.result()),
        s.cancellationReason(),
        s.resubmittedFrom() == null ? null : s.resubmittedFrom().value(),
        s.releases(),
        s.batch() == null ? null : s.batch().value(),
        s.checkpoint() == null ? null : EventCodec.writeValue(s.checkpoint()),
        progressJson(s.progress()));
  }

  /** The progress column: {@code {"fraction":…,"message":…,"at":micros}}, or null. */
  static String progressJson(Progress p) {
    if (p == null) {
      return null;
    }
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("fraction", p.fraction());
    n.put("message", p.message());
    n.put("at", micros(p.reportedAt()));
    return EventCodec.writeValue(n);
  }

  /**
   * The progress a column holds. A damaged value reads as no progress: progress is a hint written
   * with a lease renewal, never a reason to refuse the row.
   */
  static Progress progressOf(String json) {
    if (json == null) {
      return null;
    }
    try {
      JsonNode n = EventCodec.readValue(json);
      return new Progress(
          n.path("fraction").asDouble(Double.NaN),
          n.path("message").asText(""),
          instant(n.path("at").asLong()));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * The view this row holds.
   *
   * @param spec the spec of the work order's Submitted event
   * @param dependencies the dependencies of its Submitted event
   * @throws IllegalArgumentException if the row is inconsistent
   */
  WorkOrder toView(WorkOrderSpec spec, List<WorkOrderId> dependencies) {
    ErrorInfo error =
        errorCode == null
            ? null
            : new ErrorInfo(
                errorCode,
                errorMessage == null ? "" : errorMessage,
                Boolean.TRUE.equals(errorRetryable));
    return WorkOrder.restore(
        new WorkOrderSnapshot(
            WorkOrderId.of(id),
            spec,
            resubmittedFrom == null ? null : WorkOrderId.of(resubmittedFrom),
            WorkOrderState.valueOf(state),
            attempt,
            version,
            instant(submittedAt),
            instant(updatedAt),
            instant(availableAt),
            leaseOwner,
            leaseExpiresAt == null ? null : instant(leaseExpiresAt),
            error,
            nextAttemptAt == null ? null : instant(nextAttemptAt),
            result == null ? null : EventCodec.readValue(result),
            cancellationReason,
            releases,
            batchId == null ? null : BatchId.of(batchId),
            dependencies,
            checkpoint == null ? null : EventCodec.readValue(checkpoint),
            progressOf(progress)));
  }

  /** Reads the row from {@code COLUMNS.size()} columns starting at {@code first}. */
  static Row read(ResultSet rs, int first) throws SQLException {
    int i = first;
    return new Row(
        rs.getString(i++),
        rs.getLong(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getInt(i++),
        rs.getInt(i++),
        rs.getLong(i++),
        rs.getInt(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getLong(i++),
        rs.getString(i++),
        nullableLong(rs, i++),
        nullableLong(rs, i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        nullableBoolean(rs, i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getInt(i++),
        rs.getString(i++),
        rs.getString(i++),
        rs.getString(i));
  }

  /** Binds every column, in {@link #COLUMNS} order, starting at parameter {@code first}. */
  void bind(PreparedStatement ps, int first) throws SQLException {
    Object[] v = values();
    for (int c = 0; c < v.length; c++) {
      set(ps, first + c, v[c], TYPES[c]);
    }
  }

  /** Binds the {@link #MUTABLE_COLUMNS}, in order, starting at parameter {@code first}. */
  void bindMutable(PreparedStatement ps, int first) throws SQLException {
    Object[] v = values();
    for (int k = 0; k < MUTABLE.length; k++) {
      set(ps, first + k, v[MUTABLE[k]], TYPES[MUTABLE[k]]);
    }
  }

  private static void set(PreparedStatement ps, int i, Object v, int type) throws SQLException {
    if (v == null) {
      ps.setNull(i, type);
    } else if (type == Types.VARCHAR) {
      ps.setString(i, (String) v);
    } else if (type == Types.BOOLEAN) {
      ps.setBoolean(i, (Boolean) v);
    } else if (type == Types.INTEGER) {
      ps.setInt(i, (Integer) v);
    } else {
      ps.setLong(i, (Long) v);
    }
  }

  /**
   * The columns that differ from the expected row, {@code "column: row X, log Y"}. A renewed lease
   * (same owner and attempt, later expiry) is not a difference.
   */
  List<String> differencesFrom(Row expected) {
    List<String> out = new ArrayList<>();
    Object[] mine = values();
    Object[] theirs = expected.values();
    for (int c = 0; c < mine.length; c++) {
      if (Objects.equals(mine[c], theirs[c])) {
        continue;
      }
      if (COLUMNS.get(c).equals("lease_expires_at") && renews(expected)) {
        continue;
      }
      if (COLUMNS.get(c).equals("progress")) {
        continue; // written with lease renewals, not in the log
      }
      out.add(COLUMNS.get(c) + ": row " + mine[c] + ", log " + theirs[c]);
    }
    return out;
  }

  /** Whether this row holds the expected row's lease, extended by renewals. */
  boolean renews(Row expected) {
    return leaseOwner != null
        && leaseOwner.equals(expected.leaseOwner)
        && attempt == expected.attempt
        && leaseExpiresAt != null
        && expected.leaseExpiresAt != null
        && leaseExpiresAt >= expected.leaseExpiresAt;
  }

  /**
   * The expected row, keeping a renewed lease's later expiry and the progress (which the log does
   * not hold) from this row.
   */
  Row repairedFrom(Row expected) {
    boolean renewed = renews(expected);
    return new Row(
        expected.id,
        expected.seq,
        expected.queue,
        expected.type,
        expected.state,
        expected.priority,
        expected.slots,
        expected.memoryMb,
        expected.attempt,
        expected.version,
        expected.submittedAt,
        expected.updatedAt,
        expected.availableAt,
        expected.leaseOwner,
        renewed ? leaseExpiresAt : expected.leaseExpiresAt,
        expected.nextAttemptAt,
        expected.idempotencyKey,
        expected.errorCode,
        expected.errorMessage,
        expected.errorRetryable,
        expected.result,
        expected.cancellationReason,
        expected.resubmittedFrom,
        expected.releases,
        expected.batchId,
        expected.checkpoint,
        progress);
  }

  /** The column values in {@link #COLUMNS} order; boxed, null where the column is NULL. */
  Object[] values() {
    return new Object[] {
      id,
      seq,
      queue,
      type,
      state,
      priority,
      slots,
      memoryMb,
      attempt,
      version,
      submittedAt,
      updatedAt,
      availableAt,
      leaseOwner,
      leaseExpiresAt,
      nextAttemptAt,
      idempotencyKey,
      errorCode,
      errorMessage,
      errorRetryable,
      result,
      cancellationReason,
      resubmittedFrom,
      releases,
      batchId,
      checkpoint,
      progress
    };
  }

  static long micros(Instant t) {
    try {
      return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    } catch (ArithmeticException e) {
      return t.getEpochSecond() < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /** The smallest microsecond count at or after {@code t}, for bounds of the form {@code x < t}. */
  static long ceilMicros(Instant t) {
    long m = micros(t);
    return t.getNano() % 1000 == 0 || m == Long.MAX_VALUE ? m : m + 1;
  }

  static Long microsOrNull(Instant t) {
    return t == null ? null : micros(t);
  }

  static Instant instant(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
  }

  private static Long nullableLong(ResultSet rs, int i) throws SQLException {
    long v = rs.getLong(i);
    return rs.wasNull() ? null : v;
  }

  private static Boolean nullableBoolean(ResultSet rs, int i) throws SQLException {
    boolean v = rs.getBoolean(i);
    return rs.wasNull() ? null : v;
  }
}
