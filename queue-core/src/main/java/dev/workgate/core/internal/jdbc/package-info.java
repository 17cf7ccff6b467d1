/**
 * Internal: the JDBC store (SQLite and PostgreSQL) behind {@link dev.workgate.core.store.Stores}:
 * schema and upgrades, appends, claims and leases, reads, retention, rebuild, and the writers that
 * group commits. Not API; its options types are {@link dev.workgate.core.store.SqliteOptions} and
 * {@link dev.workgate.core.store.PostgresOptions}.
 */
package dev.workgate.core.internal.jdbc;
