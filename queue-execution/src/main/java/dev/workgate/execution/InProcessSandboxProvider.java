package dev.workgate.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkContext;
import dev.workgate.WorkHandler;
import dev.workgate.WorkResult;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs a {@link WorkHandler} in this JVM, on a thread of its own per attempt, with a private
 * working directory under a root that is deleted when the sandbox is destroyed. Killing it sets the
 * context's cancellation flag and interrupts the handler's thread. A handler that ignores both
 * cannot be stopped (Java has no safe way to kill a thread): once the grace period has passed, the
 * sandbox gives up on it, {@link Sandbox#run} returns so that the owner records the attempt and
 * frees the slot, and the handler's thread is left to end on its own (logged). Thread-safe.
 */
public final class InProcessSandboxProvider implements SandboxProvider {
  private static final Logger LOG = LoggerFactory.getLogger(InProcessSandboxProvider.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final WorkHandler handler;
  private final Clock clock;

  /**
   * A provider for one handler.
   *
   * @param root where sandbox directories are created
   * @param handler the handler
   * @param clock stamps the sandbox records
   */
  public InProcessSandboxProvider(Path root, WorkHandler handler, Clock clock) {
    this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    this.handler = Objects.requireNonNull(handler, "handler");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public Sandbox create(SandboxRequest request) throws IOException {
    WorkOrderView view = request.workOrder();
    String name = SandboxPaths.name(view.id(), request.attempt());
    Path dir = SandboxPaths.inside(root, name);
    Files.createDirectories(dir);
    try {
      SandboxRecords.write(
          dir,
          new SandboxRecord(name, view.id(), request.attempt(), request.nodeId(), clock.instant()),
          Map.of("kind", "in-process"));
      Path work = Files.createDirectories(dir.resolve("work"));
      return new InProcessSandbox(name, dir, work, view, request.attempt());
    } catch (RuntimeException | IOException e) {
      SandboxRecords.deleteTree(dir);
      throw e;
    }
  }

  @Override
  public List<SandboxRecord> list() {
    List<SandboxRecord> records = new ArrayList<>();
    for (SandboxRecords.Entry entry : SandboxRecords.list(root)) {
      if (!entry.record().nodeKnown() || "in-process".equals(entry.details().get("kind"))) {
        records.add(entry.record());
      }
    }
    return records;
  }

  @Override
  public void destroyOrphan(SandboxRecord orphan) {
    SandboxRecords.deleteTree(SandboxPaths.inside(root, orphan.sandboxId()));
  }

  private final class InProcessSandbox implements Sandbox {
    private final String id;
    private final Path dir;
    private final Path work;
    private final WorkOrderView view;
    private final int attempt;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean destroyed = new AtomicBoolean();
    private final CompletableFuture<WorkResult> outcome = new CompletableFuture<>();
    private Thread handlerThread; // guarded by this

    InProcessSandbox(String id, Path dir, Path work, WorkOrderView view, int attempt) {
      this.id = id;
      this.dir = dir;
      this.work = work;
      this.view = view;
      this.attempt = attempt;
    }

    @Override
    public String id() {
      return id;
    }

    @Override
    public Path directory() {
      return dir;
    }

    @Override
    public WorkResult run() throws Exception {
      if (cancelled.get()) {
        throw new InterruptedException("cancelled before it started");
      }
      // The handler's own log lines carry the execution's MDC (work order, attempt, queue).
      Map<String, String> mdc = MDC.getCopyOfContextMap();
      Thread thread =
          new Thread(
              () -> {
                if (mdc != null) {
                  MDC.setContextMap(mdc);
                }
                try {
                  WorkResult result = handler.handle(new Context());
                  outcome.complete(result == null ? WorkResult.ok() : result);
                } catch (Throwable t) {
                  outcome.completeExceptionally(t);
                } finally {
                  MDC.clear();
                }
              },
              "workgate-handler-" + id);
      thread.setDaemon(true);
      synchronized (this) {
        handlerThread = thread;
      }
      thread.start();
      try {
        return outcome.get();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        throw (Error) cause;
      }
    }

    @Override
    public void kill(Duration grace) {
      cancelled.set(true);
      Thread thread;
      synchronized (this) {
        thread = handlerThread;
      }
      if (thread == null) {
        return;
      }
      thread.interrupt();
      try {
        outcome.get(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // Java cannot stop a thread safely: leave it, and let the owner record the attempt.
        LOG.warn("handler of {} ignored cancellation for {}; its thread is abandoned", id, grace);
        outcome.completeExceptionally(
            new InterruptedException("the handler did not stop within " + grace));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // it ended with a failure: stopped
      }
    }

    @Override
    public void destroy() {
      if (destroyed.compareAndSet(false, true)) {
        cancelled.set(true);
        SandboxRecords.deleteTree(dir);
      }
    }

    /** What the handler sees of its attempt. */
    private final class Context implements WorkContext {
      @Override
      public WorkOrderId id() {
        return view.id();
      }

      @Override
      public int attempt() {
        return attempt;
      }

      @Override
      public String type() {
        return view.type();
      }

      @Override
      public JsonNode payload() {
        return view.payload().deepCopy();
      }

      @Override
      public <T> T payload(Class<T> type) {
        try {
          return JSON.treeToValue(view.payload(), type);
        } catch (JsonProcessingException e) {
          throw new IllegalArgumentException(
              "payload of " + view.id().value() + " does not fit " + type.getName(), e);
        }
      }

      @Override
      public Map<String, String> labels() {
        return view.labels();
      }

      @Override
      public Path workDir() {
        if (!Files.isDirectory(work)) {
          throw new UncheckedIOException(
              new IOException("the working directory of " + id + " is gone"));
        }
        return work;
      }

      @Override
      public boolean cancellationRequested() {
        return cancelled.get();
      }
    }
  }
}
