/**
 * The store SPI: what a third-party {@link dev.workgate.core.store.WorkOrderStore} needs beside the
 * interface itself. The types its methods take and return ({@link AppendRequest}, {@link
 * ExpectedVersion}, {@link ClaimRequest}, {@link Capacity}, {@link Claim}, {@link
 * WorkAvailableListener}); the work-order aggregate that folds events into state ({@link
 * WorkOrder}, {@link WorkOrderSnapshot}) under the {@link TransitionTable}; the codec that writes
 * events as JSON ({@link EventCodec}); and the shared parts every store uses: {@link AppendStaging}
 * (checks and stages one batch of appends) and {@link ListenerRegistry} (work-available listeners).
 * A new store passes the conformance suite of the test kit ({@code
 * dev.workgate.test.WorkOrderStoreConformance}). See docs/architecture.md.
 */
package dev.workgate.spi;
