package dev.workgate.execution.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workgate.WorkContext;
import dev.workgate.WorkHandler;
import dev.workgate.WorkResult;
import dev.workgate.core.WorkOrderId;
import dev.workgate.core.WorkOrderView;
import dev.workgate.core.internal.Text;
import dev.workgate.execution.Sandbox;
import dev.workgate.execution.SandboxProvider;
import dev.workgate.execution.SandboxProvider.SandboxRecord;
import dev.workgate.execution.SandboxProvider.SandboxRequest;
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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs a {@link WorkHandler} in this JVM, on a pooled thread of its own while it runs, with a
 * private working directory under a root that is deleted when the sandbox is destroyed. The
 * directory (and the record that lets the orphan reaper find it after a crash) is created the first
 * time the handler calls {@link WorkContext#workDir()}: an attempt that never asks touches no disk.
 * Killing it sets the context's cancellation flag and interrupts the handler's thread. A handler
 * that ignores both cannot be stopped (Java has no safe way to kill a thread): once the grace
 * period has passed, the sandbox gives up on it and {@link Sandbox#run} returns so that the owner
 * records the attempt, while the handler's thread is left to end on its own (logged). {@link
 * Sandbox#whenStopped()} completes only when that thread has left the handler, and until then the
 * owner keeps the attempt's slot.
 *
 * <p>Thread-safe. Handlers run on the executor given to the constructor, which stays its caller's
 * (a {@link dev.workgate.Workgate} gives its providers a pool of the node's, shut down with the
 * node); there is no process-wide pool.
 */
public final class InProcessSandboxProvider implements SandboxProvider {
  private static final Logger LOG = LoggerFactory.getLogger(InProcessSandboxProvider.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path root;
  private final WorkHandler handler;
  private final Clock clock;
  private final ExecutorService handlers;

  /**
   * A provider for one handler whose handlers run on {@code handlers}.
   *
   * <p>Each running handler occupies a thread of the executor for as long as it runs (and longer if
   * it ignores a kill), and the execution that started it waits for it, so the executor must start
   * each task at once rather than queue it behind others: use {@link #cachedPool} or a {@link
   * java.util.concurrent.Executors#newCachedThreadPool cached pool}, or a fixed pool with more
   * threads than the node has slots. The provider never shuts the executor down; its owner does,
   * once no execution runs on it. A handler handed to an executor that refuses it (shut down) fails
   * its attempt with the {@link java.util.concurrent.RejectedExecutionException}. The executor is
   * used from many threads at once, as every {@link ExecutorService} may be.
   *
   * @param root where sandbox directories are created
   * @param handler the handler
   * @param clock stamps the sandbox records
   * @param handlers runs the handlers; the caller owns it
   */
  public InProcessSandboxProvider(
      Path root, WorkHandler handler, Clock clock, ExecutorService handlers) {
    this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    this.handler = Objects.requireNonNull(handler, "handler");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.handlers = Objects.requireNonNull(handlers, "handlers");
  }

  /**
   * A pool fit for handlers: a thread per running handler made by {@code threads}, each kept for a
   * minute after its handler ends so that the next attempt does not pay for a new thread. A handler
   * that ignores a kill keeps its thread; the pool makes another for the next one. The caller shuts
   * it down.
   *
   * @param threads makes the pool's threads
   * @return a new pool
   */
  public static ExecutorService cachedPool(ThreadFactory threads) {
    return new ThreadPoolExecutor(
        0,
        Integer.MAX_VALUE,
        60,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        Objects.requireNonNull(threads, "threads"));
  }

  private ExecutorService handlers() {
    return handlers;
  }

  @Override
  public Sandbox create(SandboxRequest request) {
    String name = SandboxPaths.name(request.workOrder().id(), request.attempt());
    Path dir = SandboxPaths.inside(root, name);
    // Nothing touches the disk until the handler asks for its working directory: most in-process
    // work never does, and a directory with its record costs more than the rest of an attempt.
    return new InProcessSandbox(name, dir, request);
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
    private final SandboxRequest request;
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final CompletableFuture<WorkResult> outcome = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private Thread handlerThread; // guarded by this: the pool thread while it runs the handler
    private boolean started; // guarded by this: the handler was handed to a thread
    private boolean created; // guarded by this: the directory and its record exist
    private boolean destroyed; // guarded by this

    InProcessSandbox(String id, Path dir, SandboxRequest request) {
      this.id = id;
      this.dir = dir;
      this.work = dir.resolve("work");
      this.view = request.workOrder();
      this.request = request;
    }

    @Override
    public String id() {
      return id;
    }

    /** The directory, which exists only once the handler has asked for its working directory. */
    @Override
    public Path directory() {
      return dir;
    }

    /** Creates the directory, its record and the working directory on first use. */
    synchronized Path workDirectory() throws IOException {
      if (destroyed) {
        throw new IOException("the working directory of " + id + " is gone");
      }
      if (!created) {
        PrivateFiles.createDirectories(dir);
        try {
          SandboxRecords.write(
              dir,
              new SandboxRecord(
                  id, view.id(), request.attempt(), request.nodeId(), clock.instant()),
              Map.of("kind", "in-process"));
          PrivateFiles.createDirectories(work);
        } catch (RuntimeException | IOException e) {
          SandboxRecords.deleteTree(dir);
          throw e;
        }
        created = true;
      }
      if (!Files.isDirectory(work)) {
        throw new IOException("the working directory of " + id + " is gone");
      }
      return work;
    }

    @Override
    public WorkResult run() throws Exception {
      synchronized (this) {
        if (cancelled.get()) {
          if (!started) {
            stopped.complete(null);
          }
          throw new InterruptedException("cancelled before it started");
        }
        started = true;
      }
      // The handler's own log lines carry the execution's MDC (work order, attempt, queue).
      Map<String, String> mdc = MDC.getCopyOfContextMap();
      Runnable task =
          () -> {
            Thread self = Thread.currentThread();
            String poolName = self.getName();
            synchronized (this) {
              handlerThread = self;
              if (cancelled.get()) {
                self.interrupt(); // killed between run() and now: the handler sees it at once
              }
            }
            self.setName("workgate-handler-" + id);
            if (mdc != null) {
              MDC.setContextMap(mdc);
            }
            WorkResult result = null;
            Throwable failure = null;
            try {
              result = handler.handle(new Context());
            } catch (Throwable t) {
              failure = t;
            } finally {
              MDC.clear();
              self.setName(poolName);
              synchronized (this) {
                handlerThread = null;
                // A kill's interrupt lands only while this handler runs: clear it before the
                // thread goes back to the pool, where it would hit the next handler.
                Thread.interrupted();
              }
              // Before the outcome: when run() returns the work has stopped, unless it was
              // abandoned, and the owner never mistakes a handler that ended for one that did not.
              stopped.complete(null);
            }
            if (failure != null) {
              outcome.completeExceptionally(failure);
            } else {
              outcome.complete(result == null ? WorkResult.ok() : result);
            }
          };
      try {
        handlers().execute(task);
      } catch (RejectedExecutionException e) {
        stopped.complete(null); // the handler never got a thread: nothing runs
        throw e;
      }
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
      synchronized (this) {
        if (handlerThread == null) {
          return; // not running: it sees the flag when it starts
        }
        handlerThread.interrupt();
      }
      try {
        outcome.get(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        // Java cannot stop a thread safely: leave it, and let the owner record the attempt; the
        // owner keeps the slot until whenStopped() completes.
        LOG.warn(
            "handler of {} (work order {} attempt {}) ignored cancellation for {}; its thread is"
                + " abandoned",
            id,
            view.id(),
            request.attempt(),
            Text.duration(grace));
        outcome.completeExceptionally(
            new InterruptedException("the handler did not stop within " + Text.duration(grace)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // it ended with a failure: stopped
      }
    }

    @Override
    public CompletionStage<Void> whenStopped() {
      return stopped.minimalCompletionStage();
    }

    @Override
    public void destroy() {
      boolean delete;
      synchronized (this) {
        if (destroyed) {
          return;
        }
        destroyed = true;
        delete = created;
        if (!started) {
          stopped.complete(null); // never ran, never will
        }
      }
      cancelled.set(true);
      if (delete) {
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
        return request.attempt();
      }

      @Override
      public long fencingToken() {
        return request.fencingToken();
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
        try {
          return workDirectory();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }

      @Override
      public boolean cancellationRequested() {
        return cancelled.get();
      }

      @Override
      public void checkpoint(Object state) {
        request.reports().checkpoint(dev.workgate.internal.Checkpoints.tree(state));
      }

      @Override
      public java.util.Optional<JsonNode> lastCheckpoint() {
        return request.reports().lastCheckpoint();
      }

      @Override
      public void progress(double fraction, String message) {
        request.reports().progress(fraction, message);
      }
    }
  }
}
