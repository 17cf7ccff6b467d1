package dev.workgate.execution;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Replaces secret values in a stream of output bytes by {@link #MARKER}, one chunk at a time, as
 * the bytes are read. Every occurrence of every secret is found, also where secrets overlap or one
 * is a prefix of another; each run of bytes covered by occurrences becomes one marker, so no part
 * of a secret is left beside it. A chunk boundary does not hide a secret: the bytes at the end of a
 * chunk that could still begin a secret (fewer than the longest secret) are held back until the
 * next chunk or {@link #finish}. Secrets are matched as their UTF-8 bytes. Not thread-safe: one
 * masker per stream.
 */
final class SecretMasker {
  /** What replaces each masked run. */
  static final String MARKER = "***";

  private static final byte[] MARKER_BYTES = MARKER.getBytes(StandardCharsets.UTF_8);

  /** Secrets by their first byte, longest first. */
  private final byte[][][] byFirstByte = new byte[256][][];

  private final int longest;
  private byte[] held = new byte[0];
  private int maskLeft;
  private long emitted;

  /** A masker for the given values; empty values are ignored. */
  SecretMasker(Collection<String> secrets) {
    List<List<byte[]>> lists = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      lists.add(new ArrayList<>());
    }
    int max = 0;
    for (String secret : secrets) {
      byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
      if (bytes.length > 0) {
        lists.get(bytes[0] & 0xFF).add(bytes);
        max = Math.max(max, bytes.length);
      }
    }
    for (int i = 0; i < 256; i++) {
      List<byte[]> list = lists.get(i);
      if (!list.isEmpty()) {
        list.sort(Comparator.comparingInt((byte[] b) -> b.length).reversed());
        byFirstByte[i] = list.toArray(new byte[0][]);
      }
    }
    this.longest = max;
  }

  /** Whether there is anything to mask at all. */
  boolean active() {
    return longest > 0;
  }

  /**
   * Masks the next chunk of the stream.
   *
   * @param sink receives the masked bytes and the offset in the masked stream of each marker
   */
  void mask(byte[] chunk, int length, Sink sink) {
    byte[] data;
    if (held.length == 0) {
      data = length == chunk.length ? chunk : Arrays.copyOf(chunk, length);
    } else {
      data = Arrays.copyOf(held, held.length + length);
      System.arraycopy(chunk, 0, data, held.length, length);
    }
    int stop = scan(data, false, sink);
    held = Arrays.copyOfRange(data, stop, data.length);
  }

  /** Masks what was held back at the end of the stream. */
  void finish(Sink sink) {
    scan(held, true, sink);
    held = new byte[0];
  }

  /** Where the masked bytes go. */
  interface Sink {
    void write(byte[] bytes, int from, int length);

    /**
     * Called before a marker's bytes are written, with the marker's offset in the masked stream.
     */
    default void marker(long offset) {}
  }

  /** Scans {@code data}; returns where it stopped (the start of the bytes to hold back). */
  private int scan(byte[] data, boolean last, Sink sink) {
    int plainFrom = 0;
    int i = 0;
    while (i < data.length) {
      byte[][] candidates = byFirstByte[data[i] & 0xFF];
      int match = 0;
      if (candidates != null) {
        for (byte[] secret : candidates) {
          int available = Math.min(secret.length, data.length - i);
          if (!regionMatches(data, i, secret, available)) {
            continue;
          }
          if (available < secret.length) {
            if (!last) {
              // May become a match with the next chunk: hold back from here.
              flushPlain(data, plainFrom, i, sink);
              return i;
            }
            continue;
          }
          match = Math.max(match, secret.length);
        }
      }
      if (maskLeft == 0 && match > 0) {
        flushPlain(data, plainFrom, i, sink);
        sink.marker(emitted);
        sink.write(MARKER_BYTES, 0, MARKER_BYTES.length);
        emitted += MARKER_BYTES.length;
      }
      maskLeft = Math.max(maskLeft, match);
      if (maskLeft > 0) {
        maskLeft--;
        i++;
        plainFrom = i;
      } else {
        i++;
      }
    }
    flushPlain(data, plainFrom, data.length, sink);
    return data.length;
  }

  private void flushPlain(byte[] data, int from, int to, Sink sink) {
    if (to > from) {
      sink.write(data, from, to - from);
      emitted += to - from;
    }
  }

  private static boolean regionMatches(byte[] data, int at, byte[] secret, int length) {
    return Arrays.equals(data, at, at + length, secret, 0, length);
  }
}
