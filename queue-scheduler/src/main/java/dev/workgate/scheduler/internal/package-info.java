/**
 * Internal: one node's scheduler (the pull loop and its parts: leases, claims, starvation guard,
 * start gate, pacing, waking, reaping) and the resource monitor that admits work. Not API: a host
 * configures them through {@code Workgate.Builder} and reads them through {@code NodeView}.
 */
package dev.workgate.scheduler.internal;
