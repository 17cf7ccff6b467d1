package dev.workgate.core.internal.jdbc;

import dev.workgate.core.ConcurrencyException;
import dev.workgate.core.RecordedEvent;
import dev.workgate.core.WorkOrderEvent;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.internal.jdbc.Tables.Current;
import dev.workgate.core.store.StoreException.UnreadableRowException;
import dev.workgate.core.store.Stores.OpenMode;
import dev.workgate.spi.EventCodec;
import dev.workgate.spi.EventCodecException;
import dev.workgate.spi.WorkOrder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the parts of a {@link JdbcWorkOrderStore} share: the dialect, the statements over the
 * projection that several parts run, the decoding of rows and events (through the decoded-spec
 * cache, into the quarantine when one cannot be read), the writing of events and rows, and the
 * checks that the store is open and may write.
 *
 * <p>Thread-safe: its state is immutable but for the cache, the quarantine (both thread-safe) and
 * the closed flag (volatile).
 */
final class Tables {
  /** Rows per multi-row statement: well under both databases' parameter limits. */
  static final int CHUNK = 500;

  final SqlDialect d;
  final Quarantine quarantine;

  /**
   * Decoded Submitted events by log position, for the spec every view joins; bounded by bytes, see
   * {@link DecodedSpecCache}.
   */
  final DecodedSpecCache submittedEvents;

  final String viewSelect;

  /** The projection's columns alone, alias p, in {@link Row#COLUMNS} order. */
  private final String rowSelect;

  private final String insertRow;
  private final String updateRow;

  /**
   * PostgreSQL: batches are bound as one array per column and written by one statement of fixed
   * text ({@code INSERT … SELECT FROM unnest(…)}, {@code UPDATE … FROM unnest(…)}, {@code =
   * ANY(?)}), whatever the batch size, so that the server parses and plans each once per connection
   * and a batch is one round trip. SQLite runs in the process: its multi-row {@code VALUES} and
   * batches of one cached statement cost no round trips.
   */
  private final boolean arrays;

  private final String insertEventsArrays;
  private final String insertRowArrays;
  private final String updateRowArrays;

  /** The three above in one statement: events, new rows, updated rows; one round trip. */
  private final String writeArrays;

  private final boolean readOnly;
  private volatile boolean closed;

  Tables(SqlDialect d, boolean readOnly, long specCacheBytes) {
    this.d = d;
    this.readOnly = readOnly;
    this.quarantine = new Quarantine();
    this.submittedEvents = new DecodedSpecCache(specCacheBytes);
    this.viewSelect =
        "SELECT p."
            + String.join(", p.", Row.COLUMNS)
            + ", e.position, e.type, e.schema_version, e.data FROM "
            + d.workOrders
            + " p JOIN "
            + d.events
            + " e ON e.work_order_id = p.id AND e.version = 1";
    this.rowSelect =
        "SELECT p." + String.join(", p.", Row.COLUMNS) + " FROM " + d.workOrders + " p";
    this.insertRow =
        "INSERT INTO "
            + d.workOrders
            + " ("
            + String.join(", ", Row.COLUMNS)
            + ") VALUES ("
            + marks(Row.COLUMNS.size())
            + ")";
    this.updateRow =
        "UPDATE "
            + d.workOrders
            + " SET "
            + Row.MUTABLE_COLUMNS.stream()
                .map(col -> col + " = ?")
                .collect(Collectors.joining(", "))
            + " WHERE id = ? AND version = ?";
    this.arrays = d instanceof SqlDialect.Postgres;
    this.insertEventsArrays =
        "INSERT INTO "
            + d.events
            + " ("
            + JdbcWorkOrderStore.EVENT_COLUMNS
            + ") SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::integer[],"
            + " ?::text[], ?::bigint[])";
    StringBuilder all = new StringBuilder();
    for (int col = 0; col < Row.COLUMNS.size(); col++) {
      all.append(col == 0 ? "" : ", ").append("?::").append(Row.sqlType(col)).append("[]");
    }
    this.insertRowArrays =
        "INSERT INTO "
            + d.workOrders
            + " ("
            + String.join(", ", Row.COLUMNS)
            + ") SELECT * FROM unnest("
            + all
            + ")";
    StringBuilder mutable = new StringBuilder("?::text[], ?::bigint[]");
    StringBuilder names = new StringBuilder("id, expected_version");
    for (int k : Row.MUTABLE) {
      mutable.append(", ?::").append(Row.sqlType(k)).append("[]");
      names.append(", ").append(Row.COLUMNS.get(k));
    }
    this.updateRowArrays =
        "UPDATE "
            + d.workOrders
            + " p SET "
            + Row.MUTABLE_COLUMNS.stream()
                .map(col -> col + " = v." + col)
                .collect(Collectors.joining(", "))
            + " FROM unnest("
            + mutable
            + ") AS v("
            + names
            + ") WHERE p.id = v.id AND p.version = v.expected_version";
    // Data-modifying WITH queries run once and to completion whether or not the main statement
    // reads them; the update touches only rows that existed before, the inserts only new ones.
    this.writeArrays =
        "WITH e AS (" + insertEventsArrays + "), i AS (" + insertRowArrays + ") " + updateRowArrays;
  }

  /** Marks the store closed; false if it was already. */
  synchronized boolean close() {
    if (closed) {
      return false;
    }
    closed = true;
    return true;
  }

  /** A projection row and its view. */
  record Current(Row row, WorkOrder view) {}

  /**
   * Loads projection rows and views by id, with a locking suffix. The spec of a view comes from its
   * Submitted event, which is the event at the row's {@code seq}: where the decoded-spec cache
   * holds it, the rows are read alone, without the join to the log (an index lookup and a fetch of
   * the event's data per row); the rest are read again with the join, as {@link #viewSelect} does.
   */
  Map<WorkOrderId, Current> load(Connection c, Set<WorkOrderId> ids, String suffix)
      throws SQLException {
    Map<WorkOrderId, Current> out = new HashMap<>();
    List<String> misses = new ArrayList<>();
    // Chunks in code-point order, each locked in the same order by the database: one total lock
    // order for every writer, so batches larger than a chunk cannot deadlock each other.
    List<WorkOrderId> all = new ArrayList<>(ids);
    all.sort((x, y) -> compareCodePoints(x.value(), y.value()));
    for (List<WorkOrderId> chunk : chunks(all)) {
      List<String> values = new ArrayList<>(chunk.size());
      chunk.forEach(id -> values.add(id.value()));
      try (PreparedStatement ps =
          c.prepareStatement(rowSelect + " WHERE " + in("p.id", chunk.size()) + suffix)) {
        bindIn(c, ps, 1, values);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Row row = Row.read(rs, 1);
            if (!(submittedEvents.get(row.seq()) instanceof WorkOrderEvent.Submitted submitted)) {
              misses.add(row.id());
              continue;
            }
            Current cur;
            try {
              cur = current(row, submitted);
            } catch (UnreadableRowException e) {
              quarantine.add(e); // counted and logged; the append to that work order fails
              throw e;
            }
            out.put(cur.view().id(), cur);
          }
        }
      }
    }
    for (List<String> chunk : chunks(misses)) {
      // Already locked above; a row without its version-1 event stays out, as with the join.
      try (PreparedStatement ps =
          c.prepareStatement(viewSelect + " WHERE " + in("p.id", chunk.size()))) {
        bindIn(c, ps, 1, chunk);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Current cur;
            try {
              cur = current(rs);
            } catch (UnreadableRowException e) {
              quarantine.add(e);
              throw e;
            }
            out.put(cur.view().id(), cur);
          }
        }
      }
    }
    return out;
  }

  /** Reads a row of {@link #viewSelect}. */
  Current current(ResultSet rs) throws SQLException {
    return current(Row.read(rs, 1), rs);
  }

  /** Reads the rest of a row of {@link #viewSelect} whose projection columns were read. */
  Current current(Row row, ResultSet rs) throws SQLException {
    int e = Row.COLUMNS.size() + 1;
    long position = rs.getLong(e);
    WorkOrderEvent first = submittedEvents.get(position);
    if (first == null) {
      String data = rs.getString(e + 3);
      first = decode(position, row.id(), rs.getString(e + 1), rs.getInt(e + 2), data);
      if (first instanceof WorkOrderEvent.Submitted) {
        submittedEvents.put(position, first, data == null ? 0 : data.length());
      }
    }
    if (!(first instanceof WorkOrderEvent.Submitted submitted)) {
      throw new UnreadableRowException(
          "work order "
              + row.id()
              + ": the event at position "
              + position
              + " (version 1) is "
              + first.type()
              + ", not Submitted; the log was changed outside Workgate",
          row.id(),
          position,
          null);
    }
    return current(row, submitted);
  }

  /** The row and its view, with the spec of its Submitted event. */
  Current current(Row row, WorkOrderEvent.Submitted submitted) {
    try {
      return new Current(row, row.toView(submitted.spec(), submitted.dependencies()));
    } catch (IllegalArgumentException | EventCodecException e2) {
      throw new UnreadableRowException(
          "work order "
              + row.id()
              + ": its projection row in "
              + d.workOrders
              + " is damaged ("
              + e2.getMessage()
              + "); run rebuildProjection(REPAIR) to rewrite it from the log",
          row.id(),
          0,
          e2);
    }
  }

  WorkOrderEvent decode(
      long position, String workOrderId, String type, int schemaVersion, String data) {
    try {
      return EventCodec.decode(type, schemaVersion, data);
    } catch (EventCodecException | IllegalArgumentException e) {
      throw new UnreadableRowException(
          "the event at position "
              + position
              + " of work order "
              + workOrderId
              + " in "
              + d.events
              + " cannot be read: "
              + e.getMessage(),
          workOrderId,
          position,
          e);
    }
  }

  interface EncodedAt {
    EventCodec.EncodedEvent at(int index);
  }

  void insertEvents(Connection c, List<RecordedEvent> events, EncodedAt encoded)
      throws SQLException {
    if (arrays) {
      insertEventArrays(c, events, encoded);
      return;
    }
    for (int from = 0; from < events.size(); from += CHUNK) {
      int to = Math.min(events.size(), from + CHUNK);
      StringBuilder sql =
          new StringBuilder(
              "INSERT INTO " + d.events + " (" + JdbcWorkOrderStore.EVENT_COLUMNS + ") VALUES ");
      for (int i = from; i < to; i++) {
        sql.append(i == from ? "" : ", ").append("(?, ?, ?, ?, ?, ?, ?)");
      }
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int n = 1;
        for (int i = from; i < to; i++) {
          RecordedEvent r = events.get(i);
          EventCodec.EncodedEvent e = encoded.at(i);
          ps.setLong(n++, r.position());
          ps.setString(n++, r.workOrderId().value());
          ps.setLong(n++, r.version());
          ps.setString(n++, e.type());
          ps.setInt(n++, e.schemaVersion());
          ps.setString(n++, e.data());
          ps.setLong(n++, Row.micros(r.recordedAt()));
        }
        ps.executeUpdate();
      }
    }
  }

  /**
   * Writes a batch's events, its new projection rows and its updated ones: on PostgreSQL in one
   * statement, on SQLite as {@link #insertEvents}, {@link #insertRows} and {@link #updateRows}.
   */
  void write(
      Connection c,
      List<RecordedEvent> events,
      EncodedAt encoded,
      List<Row> inserts,
      List<Row> updates,
      List<Long> expectedVersions)
      throws SQLException {
    if (!arrays) {
      insertEvents(c, events, encoded);
      insertRows(c, inserts);
      updateRows(c, updates, expectedVersions);
      return;
    }
    int updated;
    try (PreparedStatement ps = c.prepareStatement(writeArrays)) {
      int next = bindEvents(c, ps, 1, events, encoded);
      next = bindColumns(c, ps, next, inserts, ALL_COLUMNS);
      next = bindUpdates(c, ps, next, updates, expectedVersions);
      updated = ps.executeUpdate();
    }
    checkUpdated(c, updated, updates, expectedVersions);
  }

  private void insertEventArrays(Connection c, List<RecordedEvent> events, EncodedAt encoded)
      throws SQLException {
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(insertEventsArrays)) {
      bindEvents(c, ps, 1, events, encoded);
      ps.executeUpdate();
    }
  }

  /** Binds the events as seven arrays from parameter {@code first}; returns the next parameter. */
  private static int bindEvents(
      Connection c, PreparedStatement ps, int first, List<RecordedEvent> events, EncodedAt encoded)
      throws SQLException {
    int n = events.size();
    Long[] positions = new Long[n];
    String[] ids = new String[n];
    Long[] versions = new Long[n];
    String[] types = new String[n];
    Integer[] schemaVersions = new Integer[n];
    String[] data = new String[n];
    Long[] recordedAt = new Long[n];
    for (int i = 0; i < n; i++) {
      RecordedEvent r = events.get(i);
      EventCodec.EncodedEvent e = encoded.at(i);
      positions[i] = r.position();
      ids[i] = r.workOrderId().value();
      versions[i] = r.version();
      types[i] = e.type();
      schemaVersions[i] = e.schemaVersion();
      data[i] = e.data();
      recordedAt[i] = Row.micros(r.recordedAt());
    }
    bindArray(c, ps, first, "bigint", positions);
    bindArray(c, ps, first + 1, "text", ids);
    bindArray(c, ps, first + 2, "bigint", versions);
    bindArray(c, ps, first + 3, "text", types);
    bindArray(c, ps, first + 4, "integer", schemaVersions);
    bindArray(c, ps, first + 5, "text", data);
    bindArray(c, ps, first + 6, "bigint", recordedAt);
    return first + 7;
  }

  /**
   * Binds the rows' values of the given columns as one array per column, from {@code first};
   * returns the next parameter.
   */
  private static int bindColumns(
      Connection c, PreparedStatement ps, int first, List<Row> rows, int[] columns)
      throws SQLException {
    Object[][] byColumn = new Object[columns.length][];
    for (int k = 0; k < columns.length; k++) {
      byColumn[k] = arrayOf(Row.sqlType(columns[k]), rows.size());
    }
    for (int i = 0; i < rows.size(); i++) {
      Object[] v = rows.get(i).values();
      for (int k = 0; k < columns.length; k++) {
        byColumn[k][i] = v[columns[k]];
      }
    }
    for (int k = 0; k < columns.length; k++) {
      bindArray(c, ps, first + k, Row.sqlType(columns[k]), byColumn[k]);
    }
    return first + columns.length;
  }

  /** Binds ids, expected versions and mutable columns of an update; returns the next parameter. */
  private static int bindUpdates(
      Connection c, PreparedStatement ps, int first, List<Row> rows, List<Long> expectedVersions)
      throws SQLException {
    String[] ids = new String[rows.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = rows.get(i).id();
    }
    bindArray(c, ps, first, "text", ids);
    bindArray(c, ps, first + 1, "bigint", expectedVersions.toArray(new Long[0]));
    return bindColumns(c, ps, first + 2, rows, Row.MUTABLE);
  }

  /**
   * False once a driver refused a Java array as a parameter (any {@link SQLException} from {@code
   * setObject}, which binds without talking to the server): then {@code createArrayOf}, for every
   * store of this class loader.
   */
  private static volatile boolean javaArrays = true;

  /**
   * Binds an array parameter. pgjdbc takes a Java array as it is ({@code setObject}) and sends it
   * in binary under the element type's standard array type, which spares the type-name lookups of
   * {@link Connection#createArrayOf} (a tenth of the node's CPU in a PostgreSQL drain, with 47
   * arrays in an append). A driver that refuses that gets {@code createArrayOf}, from then on.
   */
  private static void bindArray(
      Connection c, PreparedStatement ps, int index, String sqlType, Object[] values)
      throws SQLException {
    if (javaArrays) {
      try {
        ps.setObject(index, values);
        return;
      } catch (SQLException e) {
        javaArrays = false;
      }
    }
    ps.setArray(index, c.createArrayOf(sqlType, values));
  }

  private static Object[] arrayOf(String sqlType, int n) {
    switch (sqlType) {
      case "text":
        return new String[n];
      case "boolean":
        return new Boolean[n];
      case "integer":
        return new Integer[n];
      default:
        return new Long[n];
    }
  }

  private static final int[] ALL_COLUMNS =
      java.util.stream.IntStream.range(0, Row.COLUMNS.size()).toArray();

  void insertRows(Connection c, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    if (arrays) {
      try (PreparedStatement ps = c.prepareStatement(insertRowArrays)) {
        bindColumns(c, ps, 1, rows, ALL_COLUMNS);
        ps.executeUpdate();
      }
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(insertRow)) {
      for (Row row : rows) {
        row.bind(ps, 1);
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  void updateRows(Connection c, List<Row> rows, List<Long> expectedVersions) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    if (arrays) {
      updateRowArrays(c, rows, expectedVersions);
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(updateRow)) {
      int n = Row.MUTABLE_COLUMNS.size();
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        row.bindMutable(ps, 1);
        ps.setString(n + 1, row.id());
        ps.setLong(n + 2, expectedVersions.get(i));
        ps.addBatch();
      }
      int[] counts = ps.executeBatch();
      for (int i = 0; i < counts.length; i++) {
        if (counts[i] == 0) {
          // Another writer changed the row between our read and this update: the row locks
          // (PostgreSQL) and the single writer (SQLite) rule this out, so the database was
          // changed outside the store.
          throw new ConcurrencyException(
              WorkOrderId.of(rows.get(i).id()), "exactly(" + expectedVersions.get(i) + ")", -1);
        }
      }
    }
  }

  private void updateRowArrays(Connection c, List<Row> rows, List<Long> expectedVersions)
      throws SQLException {
    int updated;
    try (PreparedStatement ps = c.prepareStatement(updateRowArrays)) {
      bindUpdates(c, ps, 1, rows, expectedVersions);
      updated = ps.executeUpdate();
    }
    checkUpdated(c, updated, rows, expectedVersions);
  }

  private void checkUpdated(Connection c, int updated, List<Row> rows, List<Long> expectedVersions)
      throws SQLException {
    if (updated == rows.size()) {
      return;
    }
    List<String> ids = new ArrayList<>(rows.size());
    rows.forEach(r -> ids.add(r.id()));
    // Some row was not at the expected version (see the batch case below): name the first one
    // that does not hold its new version now.
    Map<String, Long> now = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, version FROM " + d.workOrders + " WHERE " + in("id", ids.size()))) {
      bindIn(c, ps, 1, ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          now.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    for (int i = 0; i < rows.size(); i++) {
      if (!Long.valueOf(rows.get(i).version()).equals(now.get(rows.get(i).id()))) {
        throw new ConcurrencyException(
            WorkOrderId.of(rows.get(i).id()), "exactly(" + expectedVersions.get(i) + ")", -1);
      }
    }
    throw new ConcurrencyException(
        WorkOrderId.of(rows.get(0).id()), "exactly(" + expectedVersions.get(0) + ")", -1);
  }

  /**
   * A condition that {@code column} is one of {@code n} values, bound by {@link #bindIn}: {@code =
   * ANY(?)} with one array on PostgreSQL (one statement text for every n), {@code IN (?, …)} on
   * SQLite.
   */
  String in(String column, int n) {
    return arrays ? column + " = ANY(?::text[])" : column + " IN (" + marks(n) + ")";
  }

  /** Binds the values of a condition of {@link #in}, from parameter {@code first}; the next. */
  int bindIn(Connection c, PreparedStatement ps, int first, List<String> values)
      throws SQLException {
    if (arrays) {
      bindArray(c, ps, first, "text", values.toArray(new String[0]));
      return first + 1;
    }
    for (int i = 0; i < values.size(); i++) {
      ps.setString(first + i, values.get(i));
    }
    return first + values.size();
  }

  RecordedEvent recorded(ResultSet rs) throws SQLException {
    long position = rs.getLong(1);
    String id = rs.getString(2);
    WorkOrderEvent event = decode(position, id, rs.getString(4), rs.getInt(5), rs.getString(6));
    return new RecordedEvent(
        position, WorkOrderId.of(id), rs.getLong(3), Row.instant(rs.getLong(7)), event);
  }

  /**
   * Refuses a write of a store opened {@link OpenMode#READ_ONLY}; {@code what} null lets it pass.
   */
  void ensureWritable(String what) {
    if (readOnly && what != null) {
      throw ReadOnlyWriter.refusal(d, what);
    }
  }

  void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the work-order store on the " + d.describe() + " is closed");
    }
  }

  static void requireLimit(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
  }

  /** Code-point order: the byte order of UTF-8, which PostgreSQL's collation "C" uses. */
  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Integer.compare(a.length() - i, b.length() - j);
  }

  static String marks(int n) {
    return String.join(", ", Collections.nCopies(n, "?"));
  }

  static <T> List<List<T>> chunks(List<T> all) {
    List<List<T>> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i += CHUNK) {
      out.add(all.subList(i, Math.min(all.size(), i + CHUNK)));
    }
    return out;
  }

  static void bind(PreparedStatement ps, List<Object> params) throws SQLException {
    for (int i = 0; i < params.size(); i++) {
      Object p = params.get(i);
      if (p instanceof String s) {
        ps.setString(i + 1, s);
      } else if (p instanceof Integer n) {
        ps.setInt(i + 1, n);
      } else {
        ps.setLong(i + 1, (Long) p);
      }
    }
  }
}
