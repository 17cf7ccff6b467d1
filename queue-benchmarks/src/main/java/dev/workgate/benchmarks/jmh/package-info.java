/**
 * JMH microbenchmarks of Workgate's internals: the state machine ({@link
 * dev.workgate.benchmarks.jmh.StateMachineBenchmark}), the event codec ({@link
 * dev.workgate.benchmarks.jmh.EventCodecBenchmark}), the in-memory store ({@link
 * dev.workgate.benchmarks.jmh.InMemoryStoreBenchmark}), and batched append and claim on SQLite
 * ({@link dev.workgate.benchmarks.jmh.SqliteStoreBenchmark}) and PostgreSQL ({@link
 * dev.workgate.benchmarks.jmh.PostgresStoreBenchmark}). Every figure is operations per second; the
 * store figures are work orders per second, whatever the work orders per call.
 *
 * <p>Run all of them with the annotations' settings (one fork, 3 warm-up and 5 measured iterations
 * of 1 s; a few minutes in all) from the repository root:
 *
 * <pre>
 * mvn -B -q -pl queue-benchmarks -am package -DskipTests exec:exec@jmh
 * </pre>
 *
 * <p>{@code -Djmh.args="..."} passes JMH's own options: the short form that only shows that every
 * benchmark runs is {@code -Djmh.args="-f 1 -wi 1 -i 1 -w 200ms -r 200ms"}; a regex picks
 * benchmarks ({@code -Djmh.args="StateMachine|EventCodec"}) and {@code -e} leaves some out ({@code
 * -Djmh.args="-e PostgresStoreBenchmark"} without a PostgreSQL server). JMH reports a benchmark
 * that failed (such as a PostgreSQL one without a server) and exits 0 all the same; add {@code -foe
 * true} where a failure must fail the build.
 */
package dev.workgate.benchmarks.jmh;
