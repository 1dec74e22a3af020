package io.sparkprop.spark.train;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.LongFunction;
import java.util.function.ToLongFunction;

/**
 * The one record of each exchange (synchronous step or local-SGD round) of a trainer: where its wall
 * time goes, as the driver sees it, and what it costs besides time ({@link ExchangeCosts}). The
 * phases:
 * <ul>
 *   <li>{@code broadcast}: creating the weights' broadcast (serializing it into blocks);</li>
 *   <li>{@code compute}: the slowest partition's forward, backward and local updates inside its
 *       task (tasks run in parallel, so the slowest one bounds the step);</li>
 *   <li>{@code exchange}: the rest of the Spark job: scheduling, task launch, shipping and merging
 *       the partial results ({@code job - compute});</li>
 *   <li>{@code update}: the driver's part after the job: dividing, checks, clipping, the optimizer
 *       (or the averaging of a local-SGD round).</li>
 * </ul>
 * With each exchange it keeps the driver's CPU time over it, recorded with the phases, and the
 * figures of Spark's events ({@link ExchangeListener.Figures}), attached later, when the listener
 * bus has delivered them ({@link #attach}). Medians are over the steps recorded so far; recording
 * allocates nothing after the arrays grow.
 */
public final class StepTimes {

    private static final OperatingSystemMXBean OS = ManagementFactory.getOperatingSystemMXBean();

    private long[] exchange = new long[1024];
    private long[] broadcast = new long[1024];
    private long[] job = new long[1024];
    private long[] compute = new long[1024];
    private long[] update = new long[1024];
    /** The driver process's CPU nanoseconds over the exchange; -1 when the JVM cannot tell. */
    private long[] cpu = new long[1024];
    /** What Spark's events said about the exchange; null until attached, or when not all arrived. */
    private ExchangeListener.Figures[] spark = new ExchangeListener.Figures[1024];
    private int count;

    /**
     * The CPU time of the driver's process so far, in nanoseconds, all its threads
     * ({@code com.sun.management.OperatingSystemMXBean#getProcessCpuTime}); -1 on a JVM without it.
     */
    static long processCpuNanos() {
        return OS instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : -1;
    }

    /**
     * Records exchange {@code exchangeId}'s phases and the driver's CPU time over it ({@code -1}:
     * unknown), in nanoseconds.
     */
    public synchronized void record(long exchangeId, long broadcastNanos, long jobNanos, long computeNanos,
                                    long updateNanos, long cpuNanos) {
        if (count == job.length) {
            int n = count * 2;
            exchange = Arrays.copyOf(exchange, n);
            broadcast = Arrays.copyOf(broadcast, n);
            job = Arrays.copyOf(job, n);
            compute = Arrays.copyOf(compute, n);
            update = Arrays.copyOf(update, n);
            cpu = Arrays.copyOf(cpu, n);
            spark = Arrays.copyOf(spark, n);
        }
        exchange[count] = exchangeId;
        broadcast[count] = broadcastNanos;
        job[count] = jobNanos;
        compute[count] = Math.min(computeNanos, jobNanos);
        update[count] = updateNanos;
        cpu[count] = cpuNanos;
        spark[count] = null;
        count++;
    }

    /** The ids of the exchanges recorded from index {@code from} on, for {@link ExchangeListener#await}. */
    synchronized long[] exchangesSince(int from) {
        return Arrays.copyOfRange(exchange, Math.max(0, Math.min(from, count)), count);
    }

    /**
     * Attaches to each exchange recorded from index {@code from} on what {@code figures} says of its
     * id (null: not known).
     */
    synchronized void attach(int from, LongFunction<ExchangeListener.Figures> figures) {
        for (int i = Math.max(0, from); i < count; i++) {
            spark[i] = figures.apply(exchange[i]);
        }
    }

    public synchronized int count() {
        return count;
    }

    /** The median of each phase, in milliseconds; all zero when nothing was recorded. */
    public synchronized Summary summary() {
        return summarySince(0);
    }

    /** The medians over the steps recorded from index {@code from} on (see {@link #count()}). */
    public synchronized Summary summarySince(int from) {
        int n = count - Math.max(0, Math.min(from, count));
        if (n == 0) {
            return new Summary(0, 0, 0, 0, 0, 0, ExchangeCosts.UNKNOWN);
        }
        int start = count - n;
        long[] b = Arrays.copyOfRange(broadcast, start, count);
        long[] c = Arrays.copyOfRange(compute, start, count);
        long[] u = Arrays.copyOfRange(update, start, count);
        long[] rest = new long[n];
        long[] total = new long[n];
        for (int i = 0; i < n; i++) {
            rest[i] = job[start + i] - compute[start + i];
            total[i] = broadcast[start + i] + job[start + i] + update[start + i];
        }
        return new Summary(n, median(b), median(c), median(rest), median(u), median(total), costs(start));
    }

    /** The medians of the exchanges' other figures from {@code start} on, each over those that know it. */
    private ExchangeCosts costs(int start) {
        long[] cpuKnown = Arrays.stream(cpu, start, count).filter(t -> t >= 0).toArray();
        return new ExchangeCosts(median(start, ExchangeListener.Figures::driverInBytes),
                median(start, ExchangeListener.Figures::driverOutBytes),
                median(start, ExchangeListener.Figures::broadcastBytes),
                median(start, ExchangeListener.Figures::shuffleWriteBytes),
                median(start, ExchangeListener.Figures::shuffleReadBytes),
                median(start, ExchangeListener.Figures::stages), median(start, ExchangeListener.Figures::tasks),
                cpuKnown.length == 0 ? Double.NaN : median(cpuKnown),
                median(start, ExchangeListener.Figures::schedulerDelayMs),
                median(start, ExchangeListener.Figures::deserializeMs),
                median(start, ExchangeListener.Figures::resultMs),
                median(start, ExchangeListener.Figures::shuffleWaitMs));
    }

    /** The median of {@code figure} over the exchanges from {@code start} on where it is known (≥ 0). */
    private double median(int start, ToLongFunction<ExchangeListener.Figures> figure) {
        long[] known = Arrays.stream(spark, start, count).filter(f -> f != null).mapToLong(figure)
                .filter(v -> v >= 0).sorted().toArray();
        int n = known.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? known[n / 2] : (known[n / 2 - 1] + known[n / 2]) / 2.0;
    }

    private static double median(long[] values) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double mid = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return mid / 1e6;
    }

    /**
     * Median milliseconds per step (or local-SGD round) of each phase, over {@code steps} of them;
     * in {@code metrics.jsonl} as {@code sync_steps}, {@code step_ms} (the total) and
     * {@code compute_ms}, {@code exchange_ms}, {@code broadcast_ms}, {@code update_ms}, followed by
     * the known figures of {@code costs} ({@link MetricsJson}).
     *
     * @param costs the medians of the exchanges' bytes, counts, driver CPU and task time split;
     *              {@link ExchangeCosts#UNKNOWN} when none are known
     */
    public record Summary(int steps, double broadcastMs, double computeMs, double exchangeMs, double updateMs,
                          double totalMs, ExchangeCosts costs) {

        public Summary {
            java.util.Objects.requireNonNull(costs, "costs (ExchangeCosts.UNKNOWN when none are known)");
        }

        /** Phase times alone: no other figure known. */
        public Summary(int steps, double broadcastMs, double computeMs, double exchangeMs, double updateMs,
                       double totalMs) {
            this(steps, broadcastMs, computeMs, exchangeMs, updateMs, totalMs, ExchangeCosts.UNKNOWN);
        }

        /** Everything but compute: what the synchronization costs per step. */
        public double overheadMs() {
            return broadcastMs + exchangeMs + updateMs;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "median per exchange over %d: %.1f ms = compute %.1f + exchange %.1f"
                    + " + broadcast %.1f + driver update %.1f", steps, totalMs, computeMs, exchangeMs, broadcastMs,
                    updateMs) + (costs.known() ? "; per exchange: " + costs : "");
        }
    }
}
