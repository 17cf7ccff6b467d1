package dev.workgate.core;

/** A registration that {@link #close()} ends. Idempotent and thread-safe. */
public interface Subscription extends AutoCloseable {

  /** Ends the registration; no call reaches the listener once this returns. */
  @Override
  void close();
}
