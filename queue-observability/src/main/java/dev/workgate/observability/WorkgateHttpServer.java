package dev.workgate.observability;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.workgate.Workgate;
import dev.workgate.core.store.WorkOrderStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP endpoint for operators and monitoring, on the JDK's {@link HttpServer}:
 *
 * <ul>
 *   <li>{@code GET /metrics}: the Prometheus scrape;
 *   <li>{@code GET /health/live} and {@code GET /health/ready}: 200 or 503 with the JSON report;
 *   <li>{@code GET /api/queue/stats}: counts by queue and state, slots, pressure, executions, the
 *       scheduler;
 *   <li>{@code GET /api/work-orders/{id}} and {@code GET /api/work-orders/{id}/timeline};
 *   <li>{@code GET /api/audit?workOrder=&type=&from=&to=&order=&limit=&after=}: events from the
 *       store's indexes, a page at a time;
 *   <li>{@code POST /api/work-orders/{id}/cancel} with an optional body {@code {"reason": "…"}}.
 * </ul>
 *
 * <p>Safe by default. It binds {@value #DEFAULT_BIND_ADDRESS} unless told otherwise, and refuses to
 * bind any other address without a bearer token. With a token, every route but the two health
 * probes needs {@code Authorization: Bearer <token>}; the cancel route always needs it, so without
 * a token cancel is refused with 403. Tokens are compared in constant time. Bad parameters get 400
 * with a JSON error naming the parameter, unknown work orders 404, oversized requests 413 or 414, a
 * store that does not answer 503, and anything unexpected 500 with no detail (it is logged here,
 * with an id the response carries). Every response but the scrape is {@code application/json}.
 * Payloads are never served: a work order's view lists its facts, not its input.
 *
 * <p><b>Over a store alone.</b> {@link #builder(WorkOrderStore)} serves a store that no node in
 * this process runs: an operator's view of it, for a tool such as {@code workgate-admin serve}. The
 * routes, the token, loopback and {@code Host} rules, the limits and the error documents are the
 * same; what differs is what only a node knows:
 *
 * <ul>
 *   <li>{@code /api/queue/stats} has the counts by queue and state, their totals and {@code at},
 *       and no slots, pressure, executions or scheduler (they are left out, not reported as zero);
 *   <li>cancel goes through {@link dev.workgate.core.store.Cancellations#request}: a waiting work
 *       order is cancelled at once, an active one gets a {@code CancellationRequested} that the
 *       node holding its lease acts on at its next lease renewal; the answer adds {@code outcome},
 *       the name of the {@link dev.workgate.core.store.Cancellations.Result};
 *   <li>{@code /health/live} has no component and is healthy while the endpoint answers; {@code
 *       /health/ready} is the store ping ({@link WorkgateHealth#ofStore});
 *   <li>{@code /metrics} has the store-backed meters only ({@link WorkgateMetrics#ofStore}; the
 *       meters whose {@link WorkgateMeter#source()} is {@link WorkgateMeter.Source#STORE}).
 * </ul>
 *
 * The store is not closed by {@link #close()}: whoever opened it closes it, after the endpoint.
 *
 * <p>Thread-safe. {@link Builder#build()} starts serving; {@link #close()} stops it and releases
 * what it created (its threads, and the health checker and meter registry it made itself).
 */
public final class WorkgateHttpServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkgateHttpServer.class);

  /** Loopback: nothing outside the machine can reach the endpoint unless the host says so. */
  public static final String DEFAULT_BIND_ADDRESS = "127.0.0.1";

  /** The port commonly used by Prometheus exporters; {@code 0} picks a free one. */
  public static final int DEFAULT_PORT = 9464;

  /**
   * Four request threads: the routes are short reads, but a slow client or a slow store holds a
   * thread while it lasts, and the probes must still be answered.
   */
  public static final int DEFAULT_THREADS = 4;

  /** The largest request body read (a cancel reason fits many times over). */
  public static final int MAX_BODY_BYTES = 4096;

  /** The longest query string accepted. */
  public static final int MAX_QUERY_CHARS = 4096;

  /** The shortest bearer token accepted: 16 characters, so a guess is not practical. */
  public static final int MIN_TOKEN_LENGTH = 16;

  /** The longest cancel reason accepted. */
  public static final int MAX_REASON_CHARS = 500;

  private final HttpServer server;
  private final ExecutorService executor;
  private final Routes routes;
  private final AutoCloseable ownedHealth;
  private final AutoCloseable ownedMetrics;
  private final PrometheusMeterRegistry ownedRegistry;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong errors = new AtomicLong();

  private WorkgateHttpServer(Builder b, InetAddress address) throws IOException {
    WorkgateHealth madeHealth = null;
    WorkgateMetrics madeMetrics = null;
    PrometheusMeterRegistry madeRegistry = null;
    ExecutorService pool = null;
    try {
      boolean node = b.workgate != null;
      Clock clock = b.clock != null ? b.clock : node ? b.workgate.clock() : Clock.systemUTC();
      WorkgateHealth health = b.health;
      if (health == null) {
        health =
            madeHealth =
                node ? WorkgateHealth.of(b.workgate) : WorkgateHealth.ofStore(b.store, clock);
      }
      PrometheusMeterRegistry registry = b.registry;
      if (registry == null) {
        registry = madeRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        madeMetrics =
            node ? new WorkgateMetrics(b.workgate) : WorkgateMetrics.ofStore(b.store, clock);
        madeMetrics.bindTo(registry);
      }
      this.routes =
          new Routes(
              node ? Backend.of(b.workgate) : Backend.of(b.store),
              clock,
              health,
              registry,
              b.token == null ? null : digest(b.token));
      AtomicInteger n = new AtomicInteger();
      ThreadFactory threads =
          r -> {
            Thread t = new Thread(r, "workgate-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
          };
      pool = Executors.newFixedThreadPool(b.threads, threads);
      this.executor = pool;
      this.server = HttpServer.create(new InetSocketAddress(address, b.port), 0);
      server.setExecutor(executor);
      server.createContext("/", this::handle);
      server.start();
    } catch (IOException | RuntimeException | Error e) {
      // Nothing made here may outlive a failed build: threads, the listener, the meters.
      if (pool != null) {
        pool.shutdownNow();
      }
      closeQuietly(madeHealth);
      closeQuietly(madeMetrics);
      if (madeRegistry != null) {
        madeRegistry.close();
      }
      throw e;
    }
    this.ownedHealth = madeHealth;
    this.ownedMetrics = madeMetrics;
    this.ownedRegistry = madeRegistry;
  }

  /**
   * A builder for an endpoint over one Workgate node.
   *
   * @param workgate the node
   * @return a new builder
   */
  public static Builder builder(Workgate workgate) {
    return new Builder(Objects.requireNonNull(workgate, "workgate"), null);
  }

  /**
   * A builder for an endpoint over a store alone, without a node; see "Over a store alone" in the
   * class description. The endpoint never closes the store.
   *
   * @param store the store, open
   * @return a new builder
   * @throws NullPointerException if {@code store} is null
   */
  public static Builder builder(WorkOrderStore store) {
    return new Builder(null, Objects.requireNonNull(store, "store"));
  }

  /**
   * The port the endpoint listens on (the one picked, if {@code 0} was asked for).
   *
   * @return the port
   */
  public int port() {
    return server.getAddress().getPort();
  }

  /**
   * The address the endpoint listens on.
   *
   * @return the address and port
   */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** Stops serving (requests in progress get a second to finish) and releases its threads. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.stop(1);
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeQuietly(ownedHealth);
    closeQuietly(ownedMetrics);
    if (ownedRegistry != null) {
      ownedRegistry.close();
    }
  }

  private void handle(HttpExchange exchange) {
    Response response;
    try {
      response = routes.route(exchange);
    } catch (RuntimeException | Error e) {
      String id = Long.toString(errors.incrementAndGet());
      LOG.error(
          "request {} {} failed (error id {})", exchange.getRequestMethod(), path(exchange), id, e);
      ObjectNode body = JsonViews.error("internal error");
      body.put("errorId", id);
      response = Response.json(500, body);
    }
    try {
      send(exchange, response);
    } catch (IOException e) {
      LOG.debug("writing a response to {} failed", exchange.getRemoteAddress(), e);
    } finally {
      exchange.close();
    }
  }

  private static String path(HttpExchange exchange) {
    String p = exchange.getRequestURI().getRawPath();
    return p == null ? "" : p.length() > 200 ? p.substring(0, 200) + "…" : p;
  }

  private static void send(HttpExchange exchange, Response r) throws IOException {
    var headers = exchange.getResponseHeaders();
    headers.set("Content-Type", r.contentType());
    headers.set("Cache-Control", "no-store");
    headers.set("X-Content-Type-Options", "nosniff");
    r.headers().forEach(headers::set);
    byte[] body = r.body();
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(r.status(), head ? -1 : body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("closing {} failed", c.getClass().getSimpleName(), e);
    }
  }

  /** A response ready to send. */
  record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    static Response json(int status, JsonNode node) {
      return json(status, node, Map.of());
    }

    static Response json(int status, JsonNode node, Map<String, String> headers) {
      byte[] bytes;
      try {
        bytes = JsonViews.MAPPER.writeValueAsBytes(node);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("rendering a response failed", e);
      }
      return new Response(status, "application/json; charset=utf-8", bytes, headers);
    }

    static Response error(int status, String message) {
      return json(status, JsonViews.error(message));
    }

    static Response badParameter(String parameter, String message) {
      ObjectNode n = JsonViews.error(message);
      n.put("parameter", parameter);
      return json(400, n);
    }
  }

  /** Reads a request body up to the limit; null if it is larger. */
  static byte[] readBody(HttpExchange exchange) throws IOException {
    String length = exchange.getRequestHeaders().getFirst("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > MAX_BODY_BYTES) {
          return null;
        }
      } catch (NumberFormatException e) {
        return null;
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      return bytes.length > MAX_BODY_BYTES ? null : bytes;
    }
  }

  /** Builds and starts a {@link WorkgateHttpServer}. Not thread-safe. */
  public static final class Builder {
    private final Workgate workgate; // one of these two
    private final WorkOrderStore store;
    private Clock clock;
    private String bindAddress = DEFAULT_BIND_ADDRESS;
    private int port = DEFAULT_PORT;
    private String token;
    private PrometheusMeterRegistry registry;
    private WorkgateHealth health;
    private int threads = DEFAULT_THREADS;

    private Builder(Workgate workgate, WorkOrderStore store) {
      this.workgate = workgate;
      this.store = store;
    }

    /**
     * The clock that dates {@code /api/queue/stats}, and, over a store alone, the health reports
     * and the metrics' ages that the endpoint makes itself.
     *
     * @param clock the clock; default the node's clock, or {@link Clock#systemUTC()} over a store
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The address to listen on: a host name or an IP literal. Any address but a loopback one needs
     * a {@link #token(String) token}.
     *
     * @param host the address; default {@value #DEFAULT_BIND_ADDRESS}
     * @return this builder
     */
    public Builder bindAddress(String host) {
      if (host == null || host.isBlank()) {
        throw new IllegalArgumentException("bindAddress must not be blank, got " + host);
      }
      this.bindAddress = host.trim();
      return this;
    }

    /**
     * The port.
     *
     * @param port 0 to 65535; 0 picks a free port; default {@value #DEFAULT_PORT}
     * @return this builder
     */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be within 0..65535, got " + port);
      }
      this.port = port;
      return this;
    }

    /**
     * The bearer token clients must send. Needed to bind a non-loopback address, and for the cancel
     * route; with a token set, every route but the health probes needs it. The token is never
     * logged nor kept in clear: only its SHA-256 digest is held.
     *
     * @param bearerToken at least {@value #MIN_TOKEN_LENGTH} printable ASCII characters without
     *     spaces
     * @return this builder
     */
    public Builder token(String bearerToken) {
      if (bearerToken == null) {
        throw new IllegalArgumentException("token must not be null");
      }
      if (bearerToken.length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(
            "token must be at least "
                + MIN_TOKEN_LENGTH
                + " characters, got "
                + bearerToken.length());
      }
      for (int i = 0; i < bearerToken.length(); i++) {
        char c = bearerToken.charAt(i);
        if (c <= ' ' || c > '~') {
          throw new IllegalArgumentException(
              "token must be printable ASCII without spaces; character " + i + " is not");
        }
      }
      this.token = bearerToken;
      return this;
    }

    /**
     * The registry {@code /metrics} scrapes. The host binds to it what it wants served (usually a
     * {@link WorkgateMetrics}). Without one, the endpoint makes its own registry and binds a {@link
     * WorkgateMetrics} of the node to it (over a store alone, {@link WorkgateMetrics#ofStore}), and
     * releases both on close.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(PrometheusMeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /**
     * The health checker the probes ask. Without one, the endpoint makes {@link
     * WorkgateHealth#of(Workgate)} (over a store alone, {@link WorkgateHealth#ofStore}) and closes
     * it on close.
     *
     * @param health the checker
     * @return this builder
     */
    public Builder health(WorkgateHealth health) {
      this.health = Objects.requireNonNull(health, "health");
      return this;
    }

    /**
     * Request threads.
     *
     * @param threads 1 to 64; default {@value #DEFAULT_THREADS}
     * @return this builder
     */
    public Builder threads(int threads) {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException("threads must be within 1..64, got " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @return the running endpoint
     * @throws IllegalArgumentException if the address is not loopback and no token is set, or the
     *     address cannot be resolved
     * @throws java.io.UncheckedIOException if the address cannot be bound (a port in use)
     */
    public WorkgateHttpServer build() {
      InetAddress address;
      try {
        address = InetAddress.getByName(bindAddress);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("bindAddress '" + bindAddress + "' cannot be resolved");
      }
      if (!address.isLoopbackAddress() && token == null) {
        throw new IllegalArgumentException(
            "refusing to bind "
                + bindAddress
                + " without a token: anyone who can reach it could read work orders and"
                + " metrics. Set token(…) or bind a loopback address such as 127.0.0.1");
      }
      try {
        return new WorkgateHttpServer(this, address);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(
            "cannot listen on " + bindAddress + ":" + port + ": " + e.getMessage(), e);
      }
    }
  }
}
