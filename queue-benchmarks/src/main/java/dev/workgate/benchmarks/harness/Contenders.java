package dev.workgate.benchmarks.harness;

import dev.workgate.benchmarks.peers.DbSchedulerContender;
import dev.workgate.benchmarks.peers.JobRunrContender;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The contenders the harness knows, by name, in the order the tables list them. Immutable. */
final class Contenders {
  static final Map<String, Supplier<Contender>> ALL;

  static {
    Map<String, Supplier<Contender>> m = new LinkedHashMap<>();
    m.put("workgate/memory", () -> new WorkgateContender(WorkgateContender.Kind.MEMORY));
    m.put("workgate/sqlite", () -> new WorkgateContender(WorkgateContender.Kind.SQLITE));
    m.put("workgate/postgres", () -> new WorkgateContender(WorkgateContender.Kind.POSTGRES));
    m.put("db-scheduler/postgres", DbSchedulerContender::new);
    m.put("jobrunr/memory", JobRunrContender::inMemory);
    m.put("jobrunr/postgres", JobRunrContender::postgres);
    ALL = Collections.unmodifiableMap(m);
  }

  private Contenders() {}
}
