package dev.workgate.admin;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.Charset;
import java.time.Clock;

/** One run of the CLI: its exit code and what it wrote. */
record CliRun(int exit, String out, String err) {
  static CliRun run(String... args) {
    return run(Clock.systemUTC(), args);
  }

  static CliRun run(Clock clock, String... args) {
    return run(
        new WorkgateAdmin(clock, ServeCommand.Lifetime.untilShutdown(), System::getenv), args);
  }

  /** A run with what a test replaces: the clock, how long {@code serve} serves, the environment. */
  static CliRun run(WorkgateAdmin admin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Charset cs = Charset.defaultCharset();
    int exit;
    try (PrintStream o = new PrintStream(out, true, cs);
        PrintStream e = new PrintStream(err, true, cs)) {
      exit = WorkgateAdmin.run(admin, o, e, args);
    }
    return new CliRun(exit, out.toString(cs), err.toString(cs));
  }
}
