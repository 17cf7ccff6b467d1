package dev.workgate.benchmarks.harness;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The harness's command-line options. Immutable once parsed. */
final class Options {
  static final String HELP =
      String.join(
          "\n",
          "Usage: Harness [options]",
          "  --contenders a,b,…     default: every known contender ("
              + String.join(", ", Contenders.ALL.keySet())
              + ")",
          "  --shapes a,b,…         drain, steady, scaling, memory, nodes (default: all)",
          "  --workers C            jobs running at once, the same for every contender (default 16)",
          "  --jobs N               drain size on SQLite and PostgreSQL (default 20000)",
          "  --memory-jobs N        drain size on in-memory stores (default 200000)",
          "  --rounds R             rounds per contender of drain and nodes; the median is reported (default 1)",
          "  --steady-rate R        jobs per second in the steady stream (default 100)",
          "  --steady-jobs N        measured jobs in the steady stream (default 1000)",
          "  --steady-warmup N      jobs before those (default 200)",
          "  --scaling-small N      the small backlog (default 10000)",
          "  --scaling-large N      the large backlog (default 1000000)",
          "  --scaling-timed K      jobs timed from each backlog (default 10000)",
          "  --memory-pending N     pending work orders for the heap measure (default 1000000)",
          "  --nodes K              nodes of the nodes shape, each a JVM of its own (default 4)",
          "  --nodes-jobs N         the backlog the nodes drain (default: the --jobs size)",
          "  --deadline-seconds S   give up on one measurement after this long (default 600)",
          "  --help");

  boolean help;
  List<String> contenders = new ArrayList<>(Contenders.ALL.keySet());
  static final List<String> SHAPES = List.of("drain", "steady", "scaling", "memory", "nodes");

  List<String> shapes = SHAPES;
  int workers = 16;
  int durableJobs = 20_000;
  int memoryJobs = 200_000;
  int rounds = 1;
  int steadyRate = 100;
  int steadyJobs = 1_000;
  int steadyWarmup = 200;
  int scalingSmall = 10_000;
  int scalingLarge = 1_000_000;
  int scalingTimed = 10_000;
  int memoryPending = 1_000_000;
  int nodes = 4;

  /** 0: the {@code --jobs} size. */
  int nodesJobs = 0;

  Duration deadline = Duration.ofSeconds(600);

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help")) {
        o.help = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value (see --help)");
      }
      String v = args[++i];
      switch (a) {
        case "--contenders":
          o.contenders = list(a, v);
          for (String c : o.contenders) {
            if (!Contenders.ALL.containsKey(c)) {
              throw new IllegalArgumentException(
                  "--contenders: unknown contender '" + c + "'; known: " + Contenders.ALL.keySet());
            }
          }
          break;
        case "--shapes":
          o.shapes = list(a, v);
          for (String s : o.shapes) {
            if (!SHAPES.contains(s)) {
              throw new IllegalArgumentException(
                  "--shapes: unknown shape '" + s + "'; known: " + String.join(", ", SHAPES));
            }
          }
          break;
        case "--workers":
          o.workers = positive(a, v);
          break;
        case "--jobs":
          o.durableJobs = positive(a, v);
          break;
        case "--memory-jobs":
          o.memoryJobs = positive(a, v);
          break;
        case "--rounds":
          o.rounds = positive(a, v);
          break;
        case "--steady-rate":
          o.steadyRate = positive(a, v);
          break;
        case "--steady-jobs":
          o.steadyJobs = positive(a, v);
          break;
        case "--steady-warmup":
          o.steadyWarmup = positive(a, v);
          break;
        case "--scaling-small":
          o.scalingSmall = positive(a, v);
          break;
        case "--scaling-large":
          o.scalingLarge = positive(a, v);
          break;
        case "--scaling-timed":
          o.scalingTimed = positive(a, v);
          break;
        case "--memory-pending":
          o.memoryPending = positive(a, v);
          break;
        case "--nodes":
          o.nodes = positive(a, v);
          break;
        case "--nodes-jobs":
          o.nodesJobs = positive(a, v);
          break;
        case "--deadline-seconds":
          o.deadline = Duration.ofSeconds(positive(a, v));
          break;
        default:
          throw new IllegalArgumentException("unknown option '" + a + "' (see --help)");
      }
    }
    return o;
  }

  private static List<String> list(String option, String v) {
    List<String> out = new ArrayList<>();
    for (String s : v.split(",")) {
      if (!s.isBlank()) {
        out.add(s.trim());
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(option + " needs at least one name");
    }
    return out;
  }

  private static int positive(String option, String v) {
    try {
      int n = Integer.parseInt(v.replace("_", ""));
      if (n < 1) {
        throw new IllegalArgumentException(option + " must be at least 1, got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " must be a whole number, got '" + v + "'", e);
    }
  }
}
