/**
 * Internal: the runtime's seams for the test kit (manual driving and a clock-driven timer) and for
 * the project's deterministic simulation, which is built on the kit. Not API: users reach them
 * through {@code dev.workgate.test.ManualWorkgate}.
 */
package dev.workgate.internal;
