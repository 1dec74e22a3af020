package io.sparkprop.spark.train;

import java.util.Arrays;
import java.util.Locale;

/**
 * Where the wall time of synchronous steps (or local-SGD rounds) goes, as the driver sees it:
 * <ul>
 *   <li>{@code broadcast}: creating the weights' broadcast (serializing it into blocks);</li>
 *   <li>{@code compute}: the slowest partition's forward, backward and local updates inside its
 *       task (tasks run in parallel, so the slowest one bounds the step);</li>
 *   <li>{@code exchange}: the rest of the Spark job: scheduling, task launch, shipping and merging
 *       the partial results ({@code job - compute});</li>
 *   <li>{@code update}: the driver's part after the job: dividing, checks, clipping, the optimizer
 *       (or the averaging of a local-SGD round).</li>
 * </ul>
 * Medians are over the steps recorded so far; recording allocates nothing after the arrays grow.
 */
public final class StepTimes {

    private long[] broadcast = new long[1024];
    private long[] job = new long[1024];
    private long[] compute = new long[1024];
    private long[] update = new long[1024];
    private int count;

    /** Records one step's phases, in nanoseconds. */
    public synchronized void record(long broadcastNanos, long jobNanos, long computeNanos, long updateNanos) {
        if (count == job.length) {
            int n = count * 2;
            broadcast = Arrays.copyOf(broadcast, n);
            job = Arrays.copyOf(job, n);
            compute = Arrays.copyOf(compute, n);
            update = Arrays.copyOf(update, n);
        }
        broadcast[count] = broadcastNanos;
        job[count] = jobNanos;
        compute[count] = Math.min(computeNanos, jobNanos);
        update[count] = updateNanos;
        count++;
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
            return new Summary(0, 0, 0, 0, 0, 0);
        }
        int start = count - n;
        long[] b = Arrays.copyOfRange(broadcast, start, count);
        long[] c = Arrays.copyOfRange(compute, start, count);
        long[] u = Arrays.copyOfRange(update, start, count);
        long[] exchange = new long[n];
        long[] total = new long[n];
        for (int i = 0; i < n; i++) {
            exchange[i] = job[start + i] - compute[start + i];
            total[i] = broadcast[start + i] + job[start + i] + update[start + i];
        }
        return new Summary(n, median(b), median(c), median(exchange), median(u), median(total));
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
     * {@code compute_ms}, {@code exchange_ms}, {@code broadcast_ms}, {@code update_ms}
     * ({@link MetricsJson}).
     */
    public record Summary(int steps, double broadcastMs, double computeMs, double exchangeMs, double updateMs,
                          double totalMs) {

        /** Everything but compute: what the synchronization costs per step. */
        public double overheadMs() {
            return broadcastMs + exchangeMs + updateMs;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "median per step over %d: %.1f ms = compute %.1f + exchange %.1f"
                    + " + broadcast %.1f + driver update %.1f", steps, totalMs, computeMs, exchangeMs, broadcastMs,
                    updateMs);
        }
    }
}
