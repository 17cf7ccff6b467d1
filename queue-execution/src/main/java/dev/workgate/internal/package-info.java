/**
 * Internal: the runtime's seams for the test kit (manual driving and a clock-driven timer). Not
 * API: users reach them through {@code dev.workgate.test.ManualWorkgate}.
 */
package dev.workgate.internal;
