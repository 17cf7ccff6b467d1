package dev.workgate.observability;

import dev.workgate.observability.WorkgateHttpServer.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The operator console's files: an HTML page, its ES modules and style sheet, read from the
 * classpath directory {@code dev/workgate/observability/console/} of this jar. Nothing is built at
 * run time and nothing is fetched from the network: the page talks only to this endpoint's {@code
 * /api} routes.
 *
 * <p>The files hold no data, so they are served without the token (the page asks for it when an API
 * call answers 401); the loopback {@code Host} rule of an endpoint without a token still applies.
 * Every answer carries a Content-Security-Policy that allows scripts, styles and connections from
 * this origin only, no inline script, and no framing.
 *
 * <p>Thread-safe: files are read once and kept.
 */
final class ConsoleAssets {
  /** The page's policy: this origin only, no inline script or style, never inside a frame. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
          + " frame-ancestors 'none'";

  private static final String DIRECTORY = "console/";

  /** The only names served: flat, lower case, one of four kinds. */
  private static final Pattern NAME = Pattern.compile("[a-z0-9-]{1,64}\\.(html|js|css|svg)");

  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "svg", "image/svg+xml");

  private static final Map<String, String> HEADERS =
      Map.of(
          "Content-Security-Policy", CONTENT_SECURITY_POLICY,
          "X-Frame-Options", "DENY",
          "Referrer-Policy", "no-referrer",
          "Cross-Origin-Opener-Policy", "same-origin");

  private final Map<String, Optional<byte[]>> files = new ConcurrentHashMap<>();

  /**
   * The console's file of that name.
   *
   * @param name a file name such as {@code app.js}; anything not of the served form is not found
   * @return the answer, or empty if there is no such file
   */
  Optional<Response> file(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      return Optional.empty();
    }
    return files
        .computeIfAbsent(name, ConsoleAssets::read)
        .map(
            bytes ->
                new Response(
                    200, TYPES.get(name.substring(name.lastIndexOf('.') + 1)), bytes, HEADERS));
  }

  /**
   * The console's page.
   *
   * @return {@code index.html}, or empty if this jar was built without the console
   */
  Optional<Response> page() {
    return file("index.html");
  }

  /**
   * The OpenAPI 3 document of the endpoint's routes.
   *
   * @return {@code openapi.json}, or empty if this jar was built without it
   */
  Optional<Response> openApi() {
    return files
        .computeIfAbsent("../openapi.json", n -> read("openapi.json", ""))
        .map(bytes -> new Response(200, "application/json; charset=utf-8", bytes, Map.of()));
  }

  private static Optional<byte[]> read(String name) {
    return read(name, DIRECTORY);
  }

  private static Optional<byte[]> read(String name, String directory) {
    try (InputStream in = ConsoleAssets.class.getResourceAsStream(directory + name)) {
      return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("reading the console file " + name + " failed", e);
    }
  }
}
