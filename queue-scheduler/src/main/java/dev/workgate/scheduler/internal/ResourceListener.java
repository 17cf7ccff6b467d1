package dev.workgate.scheduler.internal;

import dev.workgate.scheduler.MemoryProbe.MemoryReading;
import dev.workgate.scheduler.ResourceHealthReport.PressureLevel;

/**
 * Hears of changes in a {@link ResourceMonitor}: a slot freed, or memory pressure changed. Both
 * methods do nothing by default. They are called on the thread that caused the change, after the
 * monitor's lock is released, so a listener may call the monitor (for instance to claim again). An
 * exception a listener throws is logged and goes no further; other listeners are still told. Keep
 * listeners short: a slow one delays the thread that released or refreshed.
 */
public interface ResourceListener {

  /**
   * Called once after each lease is released for the first time.
   *
   * @param monitor the monitor whose slot was freed
   */
  default void slotAvailable(ResourceMonitor monitor) {}

  /**
   * Called when {@link ResourceMonitor#refresh()} changes the pressure level, in the order of the
   * changes.
   *
   * @param from the level before
   * @param to the level now, never equal to {@code from}
   * @param reading the reading that caused the change
   */
  default void pressureChanged(PressureLevel from, PressureLevel to, MemoryReading reading) {}
}
