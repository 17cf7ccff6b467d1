package dev.workgate.execution;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the report file of a process sandbox ({@link ProcessSandboxProvider#REPORT_FILE_ENV}) and
 * hands each complete line to the attempt's {@link AttemptReports}: {@code {"progress": f,
 * "message": m}} to {@link AttemptReports#progress}, {@code {"checkpoint": v}} to {@link
 * AttemptReports#checkpoint}. Only lines ending in {@code \n} are read; a partial last line waits
 * for its newline. A line that is not such an object, or longer than {@link
 * ProcessSandboxProvider#MAX_REPORT_LINE_BYTES}, is skipped and counted; the first {@link
 * #LOGGED_BAD_LINES} are logged, by line number and what was wrong, never with their content (it
 * may hold secrets). A checkpoint the reports refuse with {@link IllegalArgumentException} (too
 * large) is skipped as well; any other exception from the reports (the attempt lost its claim) ends
 * the reading for good.
 *
 * <p>The file is opened once, before the process starts, and read through that channel: a process
 * that replaces the file with a link or a pipe does not make the reader follow it or block on it.
 * {@link #read} and {@link #close} are synchronized, so the tailing thread and the final read never
 * interleave and the reports are called by one thread at a time.
 */
final class ReportFile implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ReportFile.class);

  /** How many bad lines are logged one by one; the rest are counted. */
  static final int LOGGED_BAD_LINES = 5;

  private static final int CHUNK_BYTES = 64 * 1024;
  private static final int INITIAL_LINE_BYTES = 1024;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private final String sandboxId;
  private final FileChannel channel;
  private final AttemptReports reports;
  private final int maxLineBytes;
  private final ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES);

  private byte[] line = new byte[INITIAL_LINE_BYTES];
  private int lineLength;
  private boolean overLong;
  private long position;
  private long lines;
  private long badLines;
  private boolean readFailed;
  private boolean stopped;
  private boolean closed;

  private ReportFile(
      String sandboxId, FileChannel channel, AttemptReports reports, int maxLineBytes) {
    this.sandboxId = sandboxId;
    this.channel = channel;
    this.reports = reports;
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Opens a report file for reading from its start.
   *
   * @param file the file, not a symbolic link
   * @param sandboxId names the sandbox in log messages
   * @param reports where the lines go
   * @param maxLineBytes the longest line read, without its newline
   * @return the reader
   * @throws IOException if the file cannot be opened
   */
  static ReportFile open(Path file, String sandboxId, AttemptReports reports, int maxLineBytes)
      throws IOException {
    FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    return new ReportFile(sandboxId, channel, reports, maxLineBytes);
  }

  /**
   * Reads the file every {@code interval} until {@code end} is counted down or this thread is
   * interrupted; for a thread of its own. The read after the end is the owner's ({@link #read}).
   *
   * @param end counted down when the process has exited
   * @param interval how long to wait between reads
   */
  void tail(CountDownLatch end, Duration interval) {
    try {
      while (!end.await(interval.toNanos(), TimeUnit.NANOSECONDS)) {
        read();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the thread is done either way
    } catch (RuntimeException e) {
      // read() catches what the file and the reports throw; this is a bug, but never the attempt's
      LOG.warn("process sandbox {}: reading its report file failed", sandboxId, e);
    }
  }

  /**
   * Reads what was appended since the last read, to the current end of the file, and hands every
   * complete line to the reports. Does nothing once closed or stopped. Never throws for what the
   * file holds or the reports throw.
   */
  synchronized void read() {
    if (closed || stopped) {
      return;
    }
    try {
      long size = channel.size();
      if (size < position) {
        LOG.warn(
            "process sandbox {}: its report file shrank from {} to {} bytes (it should only be"
                + " appended to); reading it again from its start",
            sandboxId,
            position,
            size);
        position = 0;
        lineLength = 0;
        overLong = false;
      }
      while (!stopped) {
        chunk.clear();
        int n = channel.read(chunk, position);
        if (n <= 0) {
          return;
        }
        position += n;
        consume(chunk.array(), n);
      }
    } catch (IOException e) {
      if (!readFailed) {
        readFailed = true;
        LOG.warn("process sandbox {}: cannot read its report file: {}", sandboxId, e.toString());
      }
    }
  }

  /** How many complete lines were read, bad ones included. */
  synchronized long lines() {
    return lines;
  }

  /** How many complete lines were skipped as bad, refused checkpoints included. */
  synchronized long badLines() {
    return badLines;
  }

  /** Whether the reports refused a report for good, so nothing more is read. */
  synchronized boolean stopped() {
    return stopped;
  }

  /**
   * Closes the file; later reads do nothing. Logs how many bad lines there were beyond those
   * logged, and a last line without its newline, which is never read.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } catch (IOException e) {
      LOG.debug("process sandbox {}: cannot close its report file: {}", sandboxId, e.toString());
    }
    if (!stopped && (lineLength > 0 || overLong)) {
      LOG.warn(
          "process sandbox {}: the last line of its report file (line {}) has no newline and was"
              + " not read",
          sandboxId,
          lines + 1);
    }
    if (badLines > LOGGED_BAD_LINES) {
      LOG.warn(
          "process sandbox {}: {} bad lines of its report file were skipped in all",
          sandboxId,
          badLines);
    }
    line = new byte[0];
  }

  /** Splits {@code n} bytes into lines, completing the pending one at the first newline. */
  private void consume(byte[] bytes, int n) {
    int start = 0;
    while (start <= n && !stopped) {
      int newline = indexOf(bytes, start, n, (byte) '\n');
      if (newline < 0) {
        append(bytes, start, n - start);
        return;
      }
      append(bytes, start, newline - start);
      completeLine();
      start = newline + 1;
    }
  }

  private static int indexOf(byte[] bytes, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** Adds to the pending line; past the limit, drops it and ignores the rest up to its newline. */
  private void append(byte[] bytes, int from, int length) {
    if (overLong || length == 0) {
      return;
    }
    if (length > maxLineBytes - lineLength) {
      overLong = true;
      lineLength = 0;
      line = new byte[INITIAL_LINE_BYTES];
      return;
    }
    if (lineLength + length > line.length) {
      int capacity = line.length;
      while (capacity < lineLength + length) {
        capacity = (int) Math.min((long) capacity * 2, maxLineBytes);
      }
      byte[] grown = new byte[capacity];
      System.arraycopy(line, 0, grown, 0, lineLength);
      line = grown;
    }
    System.arraycopy(bytes, from, line, lineLength, length);
    lineLength += length;
  }

  private void completeLine() {
    lines++;
    if (overLong) {
      overLong = false;
      bad("longer than " + maxLineBytes + " bytes");
    } else {
      handle(line, lineLength);
    }
    lineLength = 0;
    if (line.length > CHUNK_BYTES) {
      line = new byte[INITIAL_LINE_BYTES]; // do not keep a large checkpoint's buffer
    }
  }

  private void handle(byte[] bytes, int length) {
    if (blank(bytes, length)) {
      return;
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes, 0, length);
    } catch (IOException | RuntimeException e) {
      // Jackson's message quotes the content: never log it.
      bad("not one JSON value in UTF-8");
      return;
    }
    if (node == null || !node.isObject()) {
      bad("not a JSON object");
      return;
    }
    JsonNode progress = node.get("progress");
    JsonNode checkpoint = node.get("checkpoint");
    if (progress != null && checkpoint != null) {
      bad("holds both \"progress\" and \"checkpoint\"");
    } else if (progress != null) {
      progress(progress, node.get("message"));
    } else if (checkpoint != null) {
      checkpoint(checkpoint, length);
    } else {
      bad("holds neither \"progress\" nor \"checkpoint\"");
    }
  }

  private void progress(JsonNode progress, JsonNode message) {
    if (!progress.isNumber()) {
      bad("\"progress\" is not a number");
      return;
    }
    double fraction = progress.doubleValue();
    if (!(fraction >= 0 && fraction <= 1)) {
      bad("\"progress\" is not between 0 and 1");
      return;
    }
    String text;
    if (message == null || message.isNull()) {
      text = "";
    } else if (message.isTextual()) {
      text = message.textValue();
    } else {
      bad("\"message\" is not a string");
      return;
    }
    try {
      reports.progress(fraction, text);
    } catch (IllegalArgumentException e) {
      bad("progress refused");
    } catch (RuntimeException e) {
      stop("progress", e);
    }
  }

  private void checkpoint(JsonNode state, int lineBytes) {
    try {
      reports.checkpoint(state);
    } catch (IllegalArgumentException e) {
      bad("checkpoint refused, too large or not storable (a line of " + lineBytes + " bytes)");
    } catch (RuntimeException e) {
      stop("checkpoint", e);
    }
  }

  private void stop(String what, RuntimeException e) {
    stopped = true;
    LOG.warn(
        "process sandbox {}: the attempt refused the {} of report line {} ({}); the rest of its"
            + " report file is not read",
        sandboxId,
        what,
        lines,
        e.toString());
  }

  private void bad(String what) {
    badLines++;
    if (badLines <= LOGGED_BAD_LINES) {
      LOG.warn(
          "process sandbox {}: report line {} skipped: {}{}",
          sandboxId,
          lines,
          what,
          badLines == LOGGED_BAD_LINES ? " (further bad lines are counted, not logged)" : "");
    }
  }

  private static boolean blank(byte[] bytes, int length) {
    for (int i = 0; i < length; i++) {
      byte b = bytes[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        return false;
      }
    }
    return true;
  }
}
