package dev.workgate.observability;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.workgate.Workgate;
import dev.workgate.core.internal.Text;
import dev.workgate.core.store.WorkOrderStore;
import dev.workgate.observability.WorkgateMetrics.WorkgateMeter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP endpoint for operators and monitoring, on a strict HTTP/1.1 server of its own (one
 * request per connection, bodies only with a Content-Length):
 *
 * <ul>
 *   <li>{@code GET /metrics}: the Prometheus scrape;
 *   <li>{@code GET /health/live} and {@code GET /health/ready}: 200 or 503 with the JSON report;
 *   <li>{@code GET /api/queue/stats}: counts by queue and state, slots, pressure, executions, the
 *       scheduler;
 *   <li>{@code GET /api/work-orders/{id}} and {@code GET /api/work-orders/{id}/timeline};
 *   <li>{@code GET /api/audit?workOrder=&type=&from=&to=&order=&limit=&after=}: events from the
 *       store's indexes, a page at a time;
 *   <li>{@code POST /api/work-orders/{id}/cancel} with an optional body {@code {"reason": "…"}};
 *   <li>the work-order API: {@code GET /api/work-orders} (filtered, paged), {@code
 *       /api/work-orders/counts}, {@code /api/failures}, {@code /api/throughput}, {@code
 *       /api/nodes}, {@code /api/overview}, {@code /api/batches/{batch}}, {@code /api/queues},
 *       {@code /api/queues/{queue}/actions}; {@code POST /api/work-orders} (submit), {@code
 *       /api/work-orders/batch}, {@code /api/work-orders/{id}/resubmit}, {@code
 *       /api/work-orders/bulk/resubmit}, {@code /api/work-orders/bulk/cancel}, {@code
 *       /api/queues/{queue}/pause} and {@code /api/queues/{queue}/resume};
 *   <li>{@code GET /api/openapi.json}: the OpenAPI 3.0 document of every route;
 *   <li>{@code GET /} and {@code GET /console/<file>}: the operator console, a page and its modules
 *       from this jar.
 * </ul>
 *
 * <p>Safe by default. It binds {@value #DEFAULT_BIND_ADDRESS} unless told otherwise, and refuses to
 * bind any other address without a bearer token. With a token, every route but the two health
 * probes and the console's files needs {@code Authorization: Bearer <token>}; every route that
 * changes state always needs it, so without a token they are refused with 403. Tokens are compared
 * in constant time. Bad parameters get 400 with a JSON error naming the parameter, unknown work
 * orders 404, oversized requests 413 or 414, a store that does not answer 503, and anything
 * unexpected 500 with no detail (it is logged here, with an id the response carries). Every
 * response but the scrape is {@code application/json}. A work order's payload, result and
 * checkpoint are served only by {@code GET
 * /api/work-orders/{id}?include=payload,result,checkpoint}, to a caller with the token: every other
 * answer lists facts, not inputs.
 *
 * <p><b>Malformed requests.</b> The endpoint reads HTTP itself, so a request it cannot serve gets
 * its JSON error too, never another server's page: bad framing 400 (two {@code Host}, {@code
 * Content-Length} or {@code Authorization} headers, a Content-Length that is not a number, a folded
 * or nameless header line, a path with {@code .} or {@code ..} segments, a target that is neither a
 * path nor an absolute {@code http} URI), {@code Transfer-Encoding: chunked} 411, any other
 * transfer coding 501, a body over its route's limit ({@value #MAX_SMALL_BODY_BYTES} bytes for most
 * routes, up to {@value #MAX_BODY_BYTES} for a batch) 413, a request line over 8 KiB 414, header
 * lines over 16 KiB in all 431, an HTTP version other than 1.0 and 1.1 505 (an HTTP/2 preface among
 * them), a request not complete within 10 seconds 408. Empty path segments are ignored, so {@code
 * //metrics} is {@code /metrics}. Every answer closes its connection.
 *
 * <p><b>Over a store alone.</b> {@link #builder(WorkOrderStore)} serves a store that no node in
 * this process runs: an operator's view of it, for a tool such as {@code workgate-admin serve}. The
 * routes, the token, loopback and {@code Host} rules, the limits and the error documents are the
 * same; what differs is what only a node knows:
 *
 * <ul>
 *   <li>{@code /api/queue/stats} has the counts by queue and state, their totals and {@code at},
 *       and no slots, pressure, executions or scheduler (they are left out, not reported as zero);
 *   <li>cancel goes through {@link dev.workgate.core.internal.Cancellations#request}: a waiting
 *       work order is cancelled at once, an active one gets a {@code CancellationRequested} that
 *       the node holding its lease acts on at its next lease renewal; the answer adds {@code
 *       outcome}, the name of the {@link dev.workgate.core.internal.Cancellations.Result};
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

  /**
   * The largest request body read: a batch of submits. Each route has its own, smaller limit where
   * its body is small (a cancel, a bulk action, one submit), and answers 413 past it.
   */
  public static final int MAX_BODY_BYTES = 1024 * 1024;

  /** The largest body of a cancel (a reason fits many times over). */
  public static final int MAX_SMALL_BODY_BYTES = 4096;

  /** The longest query string accepted. */
  public static final int MAX_QUERY_CHARS = 4096;

  /** The shortest bearer token accepted: 16 characters, so a guess is not practical. */
  public static final int MIN_TOKEN_LENGTH = 16;

  /** The longest cancel reason accepted. */
  public static final int MAX_REASON_CHARS = 500;

  /**
   * How long a client has to send its whole request, head and body: a slow or silent client holds a
   * request thread at most this long, then gets 408.
   */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  /** Connections accepted while every request thread is busy; past this they get 503 at once. */
  static final int MAX_WAITING_CONNECTIONS = 64;

  /**
   * After answering, what a client still sends is read and dropped, up to this, before closing: as
   * much as the largest body a route reads, and a little more, so that a client still sending a
   * body refused from its Content-Length (413) reads its answer instead of a reset connection.
   * Bounded in time by {@link #LINGER_TIME} too.
   */
  private static final int LINGER_BYTES = MAX_BODY_BYTES + 64 * 1024;

  private static final Duration LINGER_TIME = Duration.ofSeconds(1);

  /**
   * How long, past the request's deadline, the routes and the writing of the answer may take before
   * the connection is closed regardless (a client that does not read its answer).
   */
  private static final Duration ANSWER_TIME = Duration.ofSeconds(30);

  /** The IMF-fixdate of RFC 9110 section 5.6.7, always in GMT. */
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

  private static final byte[] CONTINUE =
      "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** The deadline of a connection that waits for a thread: none yet. */
  private static final long WAITING = Long.MIN_VALUE;

  private final Duration requestTimeout;
  private final ServerSocket listener;
  private final ThreadPoolExecutor executor;
  private final ExecutorService acceptor;

  /** Open connections, each with the System.nanoTime() by which it must be done. */
  private final Map<Socket, Long> open = new ConcurrentHashMap<>();

  private final Routes routes;
  private final Clock clock;
  private final AutoCloseable ownedHealth;
  private final AutoCloseable ownedMetrics;
  private final PrometheusMeterRegistry ownedRegistry;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong errors = new AtomicLong();

  private WorkgateHttpServer(Builder b, InetAddress address) throws IOException {
    WorkgateHealth madeHealth = null;
    WorkgateMetrics madeMetrics = null;
    PrometheusMeterRegistry madeRegistry = null;
    ThreadPoolExecutor pool = null;
    ExecutorService accept = null;
    ServerSocket socket = null;
    try {
      boolean node = b.workgate != null;
      Clock clock = b.clock != null ? b.clock : node ? b.workgate.clock() : Clock.systemUTC();
      this.clock = clock;
      this.requestTimeout = b.requestTimeout;
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
              node ? Backend.of(b.workgate) : Backend.of(b.store, clock),
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
      pool =
          new ThreadPoolExecutor(
              b.threads,
              b.threads,
              0,
              TimeUnit.MILLISECONDS,
              new ArrayBlockingQueue<>(MAX_WAITING_CONNECTIONS),
              threads);
      accept =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "workgate-http-accept");
                t.setDaemon(true);
                return t;
              });
      socket = new ServerSocket(b.port, 50, address);
      this.executor = pool;
      this.acceptor = accept;
      this.listener = socket;
      accept.execute(this::acceptLoop);
    } catch (IOException | RuntimeException | Error e) {
      // Nothing made here may outlive a failed build: threads, the listener, the meters.
      if (socket != null) {
        socket.close();
      }
      if (pool != null) {
        pool.shutdownNow();
      }
      if (accept != null) {
        accept.shutdownNow();
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
    return listener.getLocalPort();
  }

  /**
   * The address the endpoint listens on.
   *
   * @return the address and port
   */
  public InetSocketAddress address() {
    return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
  }

  /** Stops serving (requests in progress get a second to finish) and releases its threads. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      listener.close();
    } catch (IOException e) {
      LOG.debug("closing the listener failed", e);
    }
    acceptor.shutdownNow();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(1, TimeUnit.SECONDS)) {
        open.keySet().forEach(WorkgateHttpServer::closeSocket); // ends reads and writes that wait
        executor.shutdownNow();
        executor.awaitTermination(5, TimeUnit.SECONDS);
      }
      acceptor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    open.keySet().forEach(WorkgateHttpServer::closeSocket);
    closeQuietly(ownedHealth);
    closeQuietly(ownedMetrics);
    if (ownedRegistry != null) {
      ownedRegistry.close();
    }
  }

  private void acceptLoop() {
    try {
      listener.setSoTimeout(1000); // to sweep overdue connections while no one connects
    } catch (IOException e) {
      LOG.warn("the listener takes no accept timeout; overdue connections wait for the next", e);
    }
    while (!closed.get()) {
      sweep();
      Socket socket;
      try {
        socket = listener.accept();
      } catch (SocketTimeoutException e) {
        continue;
      } catch (IOException e) {
        if (!closed.get()) {
          LOG.warn("accepting a connection failed", e);
        }
        continue;
      }
      open.put(socket, WAITING); // its time starts when a thread takes it
      try {
        executor.execute(() -> serve(socket));
      } catch (RejectedExecutionException e) {
        busy(socket);
      }
    }
  }

  /**
   * Closes connections past their time. Reads end at their deadline by themselves; a write to a
   * client that does not read would wait for ever, and this ends it.
   */
  private void sweep() {
    long now = System.nanoTime();
    open.forEach(
        (socket, doneBy) -> {
          if (doneBy != WAITING && now - doneBy > 0) {
            LOG.debug(
                "closing a connection from {} past its time", socket.getRemoteSocketAddress());
            closeSocket(socket);
          }
        });
  }

  /**
   * Every request thread is busy and the queue full: 503 at once, on the accept thread, so without
   * waiting for the request; what of it has already arrived is dropped so that closing does not
   * reset the answer away.
   */
  private void busy(Socket socket) {
    try (socket) {
      ObjectNode body = JsonViews.error("the endpoint is busy; try again");
      write(
          socket.getOutputStream(),
          Response.json(503, body, Map.of("Retry-After", "1")),
          false,
          clock);
      socket.shutdownOutput();
      InputStream in = socket.getInputStream();
      in.skipNBytes(Math.min(in.available(), LINGER_BYTES));
    } catch (IOException e) {
      LOG.debug("answering a connection while busy failed", e);
    } finally {
      open.remove(socket);
    }
  }

  /** One connection, one request: read it, answer it, close. */
  private void serve(Socket socket) {
    try {
      long deadline = System.nanoTime() + requestTimeout.toNanos();
      socket.setTcpNoDelay(true); // the head and a large body go out as two writes
      open.replace(socket, deadline + ANSWER_TIME.toNanos() + LINGER_TIME.toNanos());
      InputStream in = new BufferedInputStream(new DeadlineInputStream(socket, deadline), 8192);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 8192);
      HttpRequestReader reader = new HttpRequestReader(in, WorkgateHttpServer::maxBody);
      Response response;
      try {
        HttpRequest request =
            reader.read(
                () -> {
                  out.write(CONTINUE);
                  out.flush();
                });
        if (request == null) {
          return; // closed before a byte: nothing to answer
        }
        response = answer(request);
      } catch (HttpRequestReader.Refused e) {
        response = Response.error(e.status, e.getMessage());
      } catch (SocketTimeoutException e) {
        if (!reader.anyByte()) {
          return; // connected and said nothing
        }
        response =
            Response.error(
                408, "the request did not arrive within " + Text.duration(requestTimeout));
      }
      write(out, response, "HEAD".equals(reader.method()), clock);
      linger(socket);
    } catch (IOException e) {
      LOG.debug("a connection from {} failed", socket.getRemoteSocketAddress(), e);
    } finally {
      closeSocket(socket);
      open.remove(socket);
    }
  }

  private Response answer(HttpRequest request) {
    try {
      return routes.route(request);
    } catch (RuntimeException | Error e) {
      String id = Long.toString(errors.incrementAndGet());
      LOG.error(
          "request {} {} failed (error id {})",
          Routes.shorten(request.method(), 20),
          Routes.shorten(request.rawPath(), 200),
          id,
          e);
      ObjectNode body = JsonViews.error("internal error");
      body.put("errorId", id);
      return Response.json(500, body);
    }
  }

  /**
   * The largest body read for a path: a batch {@link #MAX_BODY_BYTES}, one submit {@link
   * ApiRoutes#MAX_SUBMIT_BYTES}, a bulk action {@link ApiRoutes#MAX_BULK_BYTES}, anything else
   * {@link #MAX_SMALL_BODY_BYTES}; a longer body is refused with 413 from its Content-Length,
   * unread.
   */
  static int maxBody(String rawPath) {
    List<String> path;
    try {
      path = Routes.segments(rawPath);
    } catch (IllegalArgumentException e) {
      return MAX_SMALL_BODY_BYTES;
    }
    if (path.size() < 2 || !path.get(0).equals("api") || !path.get(1).equals("work-orders")) {
      return MAX_SMALL_BODY_BYTES;
    }
    if (path.size() == 2) {
      return ApiRoutes.MAX_SUBMIT_BYTES;
    }
    if (path.size() == 3 && path.get(2).equals("batch")) {
      return MAX_BODY_BYTES;
    }
    if (path.size() == 4 && path.get(2).equals("bulk")) {
      return ApiRoutes.MAX_BULK_BYTES;
    }
    return MAX_SMALL_BODY_BYTES;
  }

  /** Writes the whole response; a HEAD request gets the head alone. */
  static void write(OutputStream out, Response r, boolean head, Clock clock) throws IOException {
    byte[] body = r.body();
    StringBuilder h = new StringBuilder(256);
    h.append("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status())).append("\r\n");
    h.append("Content-Type: ").append(r.contentType()).append("\r\n");
    h.append("Content-Length: ").append(body.length).append("\r\n");
    h.append("Cache-Control: no-store\r\n");
    h.append("X-Content-Type-Options: nosniff\r\n");
    h.append("Date: ")
        .append(HTTP_DATE.format(ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC)))
        .append("\r\n");
    h.append("Connection: close\r\n");
    r.headers().forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
    h.append("\r\n");
    out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (!head) {
      out.write(body);
    }
    out.flush();
  }

  static String reason(int status) {
    return switch (status) {
      case 100 -> "Continue";
      case 200 -> "OK";
      case 201 -> "Created";
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 409 -> "Conflict";
      case 411 -> "Length Required";
      case 413 -> "Content Too Large";
      case 414 -> "URI Too Long";
      case 417 -> "Expectation Failed";
      case 422 -> "Unprocessable Content";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 500 -> "Internal Server Error";
      case 501 -> "Not Implemented";
      case 503 -> "Service Unavailable";
      case 505 -> "HTTP Version Not Supported";
      default -> "Status";
    };
  }

  /**
   * Half-closes, then reads and drops what the client still sends (a body the endpoint did not
   * read) for a moment, so that closing does not reset the connection before the client has read
   * the answer.
   */
  private static void linger(Socket socket) throws IOException {
    socket.shutdownOutput();
    long deadline = System.nanoTime() + LINGER_TIME.toNanos();
    InputStream in = new DeadlineInputStream(socket, deadline);
    byte[] drop = new byte[4096];
    int dropped = 0;
    try {
      for (int n; dropped < LINGER_BYTES && (n = in.read(drop)) >= 0; ) {
        dropped += n;
      }
    } catch (SocketTimeoutException e) {
      // The client neither closed nor sent more: close anyway.
    }
  }

  private static void closeSocket(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.debug("closing a connection failed", e);
    }
  }

  /**
   * The socket's input, with one deadline for every read together: each read waits at most what is
   * left of it, so a client that trickles bytes cannot hold a thread past the deadline.
   */
  private static final class DeadlineInputStream extends InputStream {
    private final Socket socket;
    private final InputStream in;
    private final long deadline;

    DeadlineInputStream(Socket socket, long deadline) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.deadline = deadline;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new SocketTimeoutException("deadline passed");
      }
      socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
      return in.read(b, off, len);
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
    private Duration requestTimeout = REQUEST_TIMEOUT;

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

    /** How long a client has to send its request; tests shorten it. */
    Builder requestTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException(
            "requestTimeout must be positive, got " + Text.duration(timeout));
      }
      this.requestTimeout = timeout;
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
