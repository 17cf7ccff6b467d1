package dev.workgate.observability;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One request as the endpoint's own HTTP/1.1 reader ({@link HttpRequestReader}) accepted it: every
 * framing question is settled before a route sees it.
 *
 * @param method the method, case kept (methods are case-sensitive)
 * @param rawPath the path, still percent-encoded, never empty, always starting with '/'
 * @param rawQuery the query after '?', still encoded; null when the target had no '?'
 * @param host the authority the client addressed: the absolute-form target's, else the one {@code
 *     Host} header's; null when there is neither
 * @param headers every header field, by lower-case name, values in the order received
 * @param body the body (empty when there is none); null when its Content-Length is over {@link
 *     WorkgateHttpServer#MAX_BODY_BYTES}, in which case it was not read
 */
record HttpRequest(
    String method,
    String rawPath,
    String rawQuery,
    String host,
    Map<String, List<String>> headers,
    byte[] body) {

  /** The one value of a header, or null if the request does not carry it. */
  String header(String name) {
    List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
    return values == null || values.isEmpty() ? null : values.get(0);
  }
}
