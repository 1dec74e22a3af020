package io.sparkprop.bench.scale;

/**
 * One exchange configuration as {@code scripts/bench-scale} measured it: its {@link RoundConfig} and
 * the medians over its rounds. Times in milliseconds, bytes in bytes, all per round (one exchange).
 * {@link MeasurementFile} reads and writes these as CSV rows.
 *
 * @param config what was run
 * @param roundMs wall time of the whole round on the driver: broadcast, job, update
 * @param computeMs the slowest partition's compute (its local steps), inside one task
 * @param exchangeMs the job's time besides compute: scheduling, results, shuffle levels, merging
 * @param broadcastMs creating the broadcast on the driver
 * @param updateMs the driver's update after the job: optimizer step (k = 1) or averaging (k > 1)
 * @param stages stages of the round's job
 * @param tasks tasks over those stages
 * @param driverInBytes bytes of task results the driver received
 * @param driverOutBytes bytes the driver sent (broadcast blocks served, task binaries)
 * @param shuffleWriteBytes shuffle bytes written, all stages
 * @param shuffleReadBytes shuffle bytes read, all stages (local and remote)
 */
public record Measurement(RoundConfig config, double roundMs, double computeMs, double exchangeMs, double broadcastMs,
                          double updateMs, int stages, long tasks, long driverInBytes, long driverOutBytes,
                          long shuffleWriteBytes, long shuffleReadBytes) {

    public Measurement {
        if (config == null) {
            throw new IllegalArgumentException("A measurement needs its configuration but got null");
        }
        requireTime("round_ms", roundMs);
        requireTime("compute_ms", computeMs);
        requireTime("exchange_ms", exchangeMs);
        requireTime("broadcast_ms", broadcastMs);
        requireTime("update_ms", updateMs);
        if (roundMs <= 0) {
            throw new IllegalArgumentException("round_ms must be > 0 but got " + roundMs);
        }
        requireCount("stages", stages);
        requireCount("tasks", tasks);
        requireCount("driver_in_bytes", driverInBytes);
        requireCount("driver_out_bytes", driverOutBytes);
        requireCount("shuffle_write_bytes", shuffleWriteBytes);
        requireCount("shuffle_read_bytes", shuffleReadBytes);
    }

    /**
     * The round's time besides compute: the wall time less the compute stage's waves of the slowest
     * partition's compute. This is what {@link CostModel}'s overhead terms are fitted to.
     */
    public double overheadMs() {
        return roundMs - config.waves() * computeMs;
    }

    private static void requireTime(String column, double value) {
        if (!Double.isFinite(value) || value < 0) {
            throw new IllegalArgumentException(column + " must be a finite time >= 0 ms but got " + value);
        }
    }

    private static void requireCount(String column, long value) {
        if (value < 0) {
            throw new IllegalArgumentException(column + " must be >= 0 but got " + value);
        }
    }
}
