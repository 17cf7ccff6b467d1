package dev.workgate.observability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Reads one HTTP/1.1 request head, and its body when it has a Content-Length, strictly (RFC 9112),
 * so that every request the endpoint does not serve is refused here with a status and a message the
 * endpoint words itself, never by a library's own page.
 *
 * <p>What it refuses, and with what:
 *
 * <ul>
 *   <li>400: a request line that is not {@code METHOD SP target SP HTTP/x.y}, or that holds a
 *       control character, a byte outside ASCII or a '#'; a target that is neither a path nor an
 *       absolute {@code http(s)://} URI; a path with a {@code .} or {@code ..} segment; a header
 *       line without a colon, with white space before the colon, folded onto the next line, or
 *       holding a control character; {@code Host}, {@code Content-Length} or {@code Authorization}
 *       given more than once; a Content-Length that is not a plain decimal number; a body shorter
 *       than its Content-Length; a head cut short;
 *   <li>411: {@code Transfer-Encoding: chunked} (request bodies need a Content-Length);
 *   <li>413: a Content-Length over the body limit, marked here (body null) and answered by the
 *       routes that read a body; a length of more than 18 digits is refused here;
 *   <li>414: a request line longer than {@link #MAX_REQUEST_LINE} bytes;
 *   <li>417: an {@code Expect} other than {@code 100-continue};
 *   <li>431: header lines longer than {@link #MAX_HEADER_BYTES} bytes in all, or more than {@link
 *       #MAX_HEADERS} of them;
 *   <li>501: any other Transfer-Encoding (another coding, a list, the header twice);
 *   <li>505: an HTTP version other than 1.0 and 1.1 (an HTTP/2 preface among them).
 * </ul>
 *
 * A line may end in CRLF or a bare LF; empty lines before the request line are skipped. Header
 * values are read as ISO-8859-1, as HTTP defines them. Not thread-safe; one per connection.
 */
final class HttpRequestReader {
  /** The longest request line, in bytes: room for the longest query the routes accept. */
  static final int MAX_REQUEST_LINE = 8192;

  /** The most bytes all header lines may take together. */
  static final int MAX_HEADER_BYTES = 16_384;

  /** The most header lines a request may have. */
  static final int MAX_HEADERS = 100;

  private static final int MAX_EMPTY_LINES_BEFORE = 4;

  /** A request refused before any route sees it. */
  static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** Called before the body is read when the client asked for {@code Expect: 100-continue}. */
  interface Continue {
    void send() throws IOException;
  }

  private final InputStream in;
  private final ToIntFunction<String> maxBody;
  private boolean anyByte;
  private String method;
  private ByteArrayOutputStream requestLineStart; // the request line while it is being read

  /**
   * @param in the connection's input, buffered
   * @param maxBody the largest body read; a longer one is left unread
   */
  HttpRequestReader(InputStream in, int maxBody) {
    this(in, path -> maxBody);
  }

  /**
   * A reader whose body limit depends on the request's path: a route that takes large bodies reads
   * them, every other route refuses a long one at once, from its Content-Length.
   *
   * @param in the connection's input, buffered
   * @param maxBody the largest body read for a raw path; a longer one is left unread
   */
  HttpRequestReader(InputStream in, ToIntFunction<String> maxBody) {
    this.in = in;
    this.maxBody = maxBody;
  }

  /** Whether any byte of a request arrived (a connection closed before one needs no answer). */
  boolean anyByte() {
    return anyByte;
  }

  /**
   * The request's method, so that the answer to HEAD has no body even when the request is refused:
   * the request line's first word, also when the line was refused or cut short; null before it.
   */
  String method() {
    if (method == null && requestLineStart != null) {
      String start = new String(requestLineStart.toByteArray(), StandardCharsets.ISO_8859_1);
      int space = start.indexOf(' ');
      return space < 0 ? null : start.substring(0, space);
    }
    return method;
  }

  /**
   * Reads one request.
   *
   * @return the request, or null when the connection closed before its first byte
   * @throws Refused when the request is not one the endpoint serves
   * @throws IOException when reading fails (a timeout among them)
   */
  HttpRequest read(Continue expectContinue) throws IOException, Refused {
    String line = null;
    for (int i = 0; i <= MAX_EMPTY_LINES_BEFORE; i++) {
      requestLineStart = new ByteArrayOutputStream(128);
      line =
          line(
              requestLineStart,
              MAX_REQUEST_LINE,
              414,
              "request line longer than " + MAX_REQUEST_LINE + " bytes");
      if (line == null) {
        if (!anyByte) {
          return null;
        }
        throw new Refused(400, "the request head was cut short");
      }
      if (!line.isEmpty()) {
        break;
      }
    }
    if (line.isEmpty()) {
      throw new Refused(400, "no request line");
    }
    String[] parts = requestLine(line);
    String method = parts[0];
    String target = parts[1];
    this.method = method;

    Map<String, List<String>> headers = new LinkedHashMap<>();
    int headerBytes = 0;
    int count = 0;
    while (true) {
      String h =
          line(
              new ByteArrayOutputStream(128),
              MAX_HEADER_BYTES - headerBytes + 1,
              431,
              "header lines longer than " + MAX_HEADER_BYTES + " bytes in all");
      if (h == null) {
        throw new Refused(400, "the request head was cut short");
      }
      if (h.isEmpty()) {
        break;
      }
      headerBytes += h.length() + 2;
      if (headerBytes > MAX_HEADER_BYTES) {
        throw new Refused(431, "header lines longer than " + MAX_HEADER_BYTES + " bytes in all");
      }
      if (++count > MAX_HEADERS) {
        throw new Refused(431, "more than " + MAX_HEADERS + " header lines");
      }
      header(h, headers);
    }
    for (String once : List.of("host", "content-length", "authorization")) {
      List<String> values = headers.get(once);
      if (values != null && values.size() > 1) {
        throw new Refused(400, "the " + display(once) + " header is given more than once");
      }
    }

    String host = one(headers, "host");
    String rawPath;
    String rawQuery;
    String pathAndQuery;
    if (target.startsWith("/")) {
      pathAndQuery = target;
    } else if (startsWithIgnoreCase(target, "http://")
        || startsWithIgnoreCase(target, "https://")) {
      // Absolute form (RFC 9112 section 3.2.2): its authority replaces the Host header.
      String rest = target.substring(target.indexOf("://") + 3);
      int end = 0;
      while (end < rest.length() && rest.charAt(end) != '/' && rest.charAt(end) != '?') {
        end++;
      }
      String authority = rest.substring(0, end);
      if (authority.isEmpty() || authority.indexOf('@') >= 0) {
        throw new Refused(400, "the absolute request target has no usable authority");
      }
      host = authority;
      String after = rest.substring(end);
      pathAndQuery = after.startsWith("/") ? after : "/" + after;
    } else {
      throw new Refused(400, "the request target must be a path such as /metrics");
    }
    int q = pathAndQuery.indexOf('?');
    rawPath = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
    rawQuery = q < 0 ? null : pathAndQuery.substring(q + 1);
    for (String segment : rawPath.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        throw new Refused(400, "the path must not have '.' or '..' segments");
      }
    }

    byte[] body = body(headers, expectContinue, maxBody.applyAsInt(rawPath));
    return new HttpRequest(method, rawPath, rawQuery, host, headers, body);
  }

  private byte[] body(Map<String, List<String>> headers, Continue expectContinue, int maxBody)
      throws IOException, Refused {
    List<String> codings = headers.get("transfer-encoding");
    if (codings != null) {
      if (codings.size() == 1 && codings.get(0).equalsIgnoreCase("chunked")) {
        throw new Refused(411, "send the request body with a Content-Length; chunked is not read");
      }
      throw new Refused(
          501, "this endpoint reads no transfer coding; send the body with a Content-Length");
    }
    String expect = one(headers, "expect");
    if (expect != null && !expect.equalsIgnoreCase("100-continue")) {
      throw new Refused(417, "the only expectation understood is 100-continue");
    }
    String length = one(headers, "content-length");
    if (length == null) {
      return new byte[0];
    }
    if (length.isEmpty() || !length.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new Refused(400, "Content-Length must be a decimal number of bytes");
    }
    if (length.length() > 18) {
      throw new Refused(413, "request body larger than " + maxBody + " bytes");
    }
    long n = Long.parseLong(length);
    if (n > maxBody) {
      return null;
    }
    if (n > 0 && expect != null) {
      expectContinue.send();
    }
    byte[] body = in.readNBytes((int) n);
    if (body.length < n) {
      throw new Refused(400, "the request body is shorter than its Content-Length");
    }
    return body;
  }

  /** Splits and checks the request line: method, target, version. */
  private static String[] requestLine(String line) throws Refused {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c < ' ' || c > '~') {
        throw new Refused(400, "the request line holds a control character or non-ASCII byte");
      }
    }
    String[] parts = line.split(" ", -1);
    if (parts.length != 3) {
      throw new Refused(400, "the request line must be METHOD SP target SP HTTP/1.1");
    }
    String version = parts[2];
    if (!version.matches("HTTP/[0-9]\\.[0-9]|HTTP/[0-9]")) {
      throw new Refused(400, "the request line must end in an HTTP version such as HTTP/1.1");
    }
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      throw new Refused(505, "only HTTP/1.1 and HTTP/1.0 are served");
    }
    if (parts[0].isEmpty() || !parts[0].chars().allMatch(HttpRequestReader::tchar)) {
      throw new Refused(400, "the method is not a token");
    }
    if (parts[1].isEmpty() || parts[1].indexOf('#') >= 0) {
      throw new Refused(400, "the request target is empty or has a fragment");
    }
    return parts;
  }

  private static void header(String line, Map<String, List<String>> headers) throws Refused {
    char first = line.charAt(0);
    if (first == ' ' || first == '\t') {
      throw new Refused(400, "folded header lines are not accepted");
    }
    int colon = line.indexOf(':');
    if (colon <= 0) {
      throw new Refused(400, "a header line has no name and colon");
    }
    String name = line.substring(0, colon);
    if (!name.chars().allMatch(HttpRequestReader::tchar)) {
      throw new Refused(400, "a header name is not a token (or has white space before ':')");
    }
    String value = line.substring(colon + 1);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < ' ' && c != '\t') || c == 0x7f) {
        throw new Refused(400, "a header value holds a control character");
      }
    }
    headers
        .computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>(1))
        .add(value.strip());
  }

  /**
   * One line without its ending, as ISO-8859-1; null at end of input before a line ends (or before
   * any byte).
   */
  private String line(ByteArrayOutputStream b, int max, int status, String tooLong)
      throws IOException, Refused {
    while (true) {
      int c = in.read();
      if (c < 0) {
        return null;
      }
      anyByte = true;
      if (c == '\n') {
        break;
      }
      if (b.size() >= max) {
        throw new Refused(status, tooLong);
      }
      b.write(c);
    }
    byte[] bytes = b.toByteArray();
    int n = bytes.length;
    if (n > 0 && bytes[n - 1] == '\r') {
      n--;
    }
    for (int i = 0; i < n; i++) {
      if (bytes[i] == '\r') {
        throw new Refused(400, "a bare CR inside a line");
      }
    }
    return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
  }

  private static String one(Map<String, List<String>> headers, String name) {
    List<String> values = headers.get(name);
    return values == null ? null : values.get(0);
  }

  private static boolean startsWithIgnoreCase(String s, String prefix) {
    return s.regionMatches(true, 0, prefix, 0, prefix.length());
  }

  private static String display(String name) {
    return switch (name) {
      case "host" -> "Host";
      case "content-length" -> "Content-Length";
      default -> "Authorization";
    };
  }

  /** RFC 9110 tchar: the characters of a method or a header name. */
  private static boolean tchar(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
  }
}
