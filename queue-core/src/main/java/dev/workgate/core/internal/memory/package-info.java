/**
 * Internal: the in-memory store behind {@link dev.workgate.core.store.Stores#inMemory()}. Not API.
 */
package dev.workgate.core.internal.memory;
