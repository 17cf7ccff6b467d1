/**
 * Internal: the retry manager that decides what a failed attempt means and releases due retries,
 * entirely through the store. Not API: a host sets retry policies and the error classifier on
 * {@code Workgate.Builder}.
 */
package dev.workgate.retry.internal;
