/**
 * Internal: the implementation of queue-core shared by the runtime modules (text rules, JSON,
 * submit and cancel over store appends, projection diffs). Not API: anything here may change or go
 * in any release. Users reach it through {@link dev.workgate.WorkgateClient}, {@link
 * dev.workgate.core.store.Stores} and the types of {@code dev.workgate.core}.
 */
package dev.workgate.core.internal;
