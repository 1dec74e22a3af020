package io.sparkprop.spark.train;

import java.util.Locale;

/**
 * What one exchange (a synchronous step, or a local-SGD round) costs besides time: the median over
 * an epoch's exchanges of each figure that Spark's scheduler events ({@link ExchangeListener}) and
 * the driver's CPU clock measure, the figures that grow with the partition count {@code P}.
 * Held by {@link StepTimes.Summary}; in {@code metrics.jsonl} under the names in brackets
 * ({@link MetricsJson}). Each median is over the exchanges where its figure is known; {@code NaN}
 * (left out of the file) when it is known for none, never 0.
 *
 * <p>Bytes:
 * <ul>
 *   <li>{@code driverInBytes} [{@code driver_in_bytes}]: the task results the driver received, the
 *       sum of every task's {@code TaskMetrics.resultSize}: each serialized result with its task's
 *       metric updates (the gradient sums or round results of the last level, and a tree's map
 *       statuses);</li>
 *   <li>{@code driverOutBytes} [{@code driver_out_bytes}]: one serialized copy of what the driver
 *       broadcasts for the exchange, as its block manager stores the pieces (after
 *       {@code spark.broadcast.compress}): the weights' broadcast and each stage's task binary (the
 *       stage's serialized RDD and function). Every executor fetches one copy, from the driver or
 *       from another executor, so on E executors the driver sends between 1 and E of them. The task
 *       descriptions sent with each launch (a few hundred bytes a task) are not in it: no event
 *       reports them;</li>
 *   <li>{@code broadcastBytes} [{@code broadcast_bytes}]: of {@code driverOutBytes}, the weights'
 *       broadcast (with local SGD, the weights and the optimizer state);</li>
 *   <li>{@code shuffleWriteBytes}, {@code shuffleReadBytes} [{@code shuffle_write_bytes},
 *       {@code shuffle_read_bytes}]: the aggregation tree's intermediate levels, the sums of
 *       {@code bytesWritten} and {@code totalBytesRead} (local and remote); 0 for a direct tree.</li>
 * </ul>
 * Counts: {@code stages} [{@code stages}], the stage attempts submitted (a tree level is one stage,
 * a retried stage counts again); {@code tasks} [{@code tasks}], the task attempts launched,
 * speculative and retried ones included. Milliseconds: {@code driverCpuMs} [{@code driver_cpu_ms}],
 * the driver process's CPU time ({@code OperatingSystemMXBean.getProcessCpuTime}) from the start of
 * the broadcast to the end of the driver's update, all its threads (the garbage collector's too).
 * In local mode the tasks run in the driver's JVM and are in it; on a cluster it is the driver
 * alone. The JVM reads that clock in ticks (10 ms on Linux), so one exchange's figure is a multiple
 * of the tick and the median is no finer.
 *
 * <p>The split of the exchange's time, from the tasks' metrics: for each stage the largest value
 * over its successful tasks, summed over the exchange's stages (the slowest task of each level, as
 * the levels run one after another):
 * <ul>
 *   <li>{@code schedulerDelayMs} [{@code scheduler_delay_ms}]: Spark UI's scheduler delay, the task's
 *       time from launch to finish that is not running, deserializing, serializing its result or
 *       fetching it: shipping the task, the result's trip and the driver deserializing it;</li>
 *   <li>{@code deserializeMs} [{@code deserialize_ms}]: {@code executorDeserializeTime}, the task and
 *       its binary (fetched from the broadcast) deserialized on the executor;</li>
 *   <li>{@code resultMs} [{@code result_ms}]: {@code resultSerializationTime} plus the driver's
 *       fetch of a result too large to come with the task's status ({@code gettingResultTime});</li>
 *   <li>{@code shuffleWaitMs} [{@code shuffle_wait_ms}]: {@code fetchWaitTime}, a tree level waiting
 *       for the partials of the level below.</li>
 * </ul>
 * The time before a task is launched (the stage's submission, queueing for a free core) is in none
 * of them.
 */
public record ExchangeCosts(double driverInBytes, double driverOutBytes, double broadcastBytes,
                            double shuffleWriteBytes, double shuffleReadBytes, double stages, double tasks,
                            double driverCpuMs, double schedulerDelayMs, double deserializeMs, double resultMs,
                            double shuffleWaitMs) {

    /** Nothing known: what a line written before these figures existed reads as. */
    public static final ExchangeCosts UNKNOWN = new ExchangeCosts(Double.NaN, Double.NaN, Double.NaN, Double.NaN,
            Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /** Whether any figure is known. */
    public boolean known() {
        return !equals(UNKNOWN);
    }

    /**
     * The figures for the epoch's log line, for example {@code driver in 6.2 KiB, out 9.5 KiB
     * (broadcast 2.9 KiB), shuffle 0 B written, 0 B read, 1 stage, 2 tasks, driver CPU 4.1 ms;
     * slowest tasks: scheduler delay 2.0, deserialize 1.0, result 0.0, shuffle wait 0.0 ms}; unknown
     * figures are left out.
     */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        part(sb, "driver in ", bytes(driverInBytes));
        String broadcast = bytes(broadcastBytes);
        if (Double.isNaN(driverOutBytes)) {
            part(sb, "broadcast ", broadcast);
        } else {
            part(sb, "out ", bytes(driverOutBytes) + (broadcast == null ? "" : " (broadcast " + broadcast + ")"));
        }
        part(sb, "shuffle ", Double.isNaN(shuffleWriteBytes) ? null
                : bytes(shuffleWriteBytes) + " written, " + bytes(shuffleReadBytes) + " read");
        part(sb, "", count(stages, "stage"));
        part(sb, "", count(tasks, "task"));
        part(sb, "driver CPU ", Double.isNaN(driverCpuMs) ? null : String.format(Locale.ROOT, "%.1f ms", driverCpuMs));
        if (!Double.isNaN(schedulerDelayMs)) {
            sb.append(sb.length() == 0 ? "" : "; ").append(String.format(Locale.ROOT, "slowest tasks: scheduler delay"
                    + " %.1f, deserialize %.1f, result %.1f, shuffle wait %.1f ms", schedulerDelayMs, deserializeMs,
                    resultMs, shuffleWaitMs));
        }
        return sb.toString();
    }

    private static void part(StringBuilder sb, String label, String value) {
        if (value != null) {
            sb.append(sb.length() == 0 ? "" : ", ").append(label).append(value);
        }
    }

    private static String count(double n, String noun) {
        if (Double.isNaN(n)) {
            return null;
        }
        String number = n == Math.rint(n) ? Long.toString((long) n) : String.format(Locale.ROOT, "%.1f", n);
        return number + " " + noun + (n == 1 ? "" : "s");
    }

    /**
     * {@code n} bytes as the log line and the report show them: B below 1 KiB, else KiB, MiB, GiB
     * or TiB with one decimal ({@code 41.2 KiB}); {@code null} for {@code NaN}.
     */
    public static String bytes(double n) {
        if (Double.isNaN(n)) {
            return null;
        }
        if (n < 1024) {
            return n == Math.rint(n) ? (long) n + " B" : String.format(Locale.ROOT, "%.1f B", n);
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n / 1024;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
