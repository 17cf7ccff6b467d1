/**
 * Internal: the execution manager that owns every sandbox from creation to destruction, records
 * outcomes, the in-process provider behind {@code Workgate.Builder.handler}, sandbox bookkeeping on
 * disk and the orphan reaper. Not API.
 */
package dev.workgate.execution.internal;
