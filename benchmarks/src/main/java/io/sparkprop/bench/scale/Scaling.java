package io.sparkprop.bench.scale;

/**
 * Modeled throughput and scaling efficiency of a round at E executors, from a {@link CostModel}.
 * One partition per task slot (P = E cores), so the compute runs in one wave.
 *
 * <p>Scaling efficiency is throughput(P) / (P throughput(1)), where throughput(1) is one executor
 * slot doing the same work with no exchange at all: the model's compute term alone. The driver's
 * update (where the optimizer runs for k = 1) counts as exchange, so efficiency is at most 1.
 * <ul>
 *   <li><b>Weak scaling</b> ({@link #weak}): every partition keeps b rows per local step, so the
 *       global batch is P b and grows with P. A round trains P k b examples; efficiency is
 *       compute(b) / round(P).</li>
 *   <li><b>Strong scaling</b> ({@link #strong}): the global batch B is fixed
 *       ({@code train.batch-size}), so a partition's step has ceil(B / P) rows (the slowest
 *       partition). A round trains k B examples; the reference is one slot stepping on all B rows,
 *       so efficiency is compute(B) / (P round(P)).</li>
 * </ul>
 */
public final class Scaling {

    private Scaling() {
    }

    /**
     * One modeled configuration.
     *
     * @param executors E
     * @param partitions P = E cores
     * @param rowsPerStep b, the slowest partition's rows per local step
     * @param roundMs the modeled round
     * @param computeMs the modeled compute of one partition in that round
     * @param examplesPerSecond examples trained per second, all partitions
     * @param efficiency throughput / (P throughput of one slot without exchange), in [0, 1]
     */
    public record Point(int executors, int partitions, int rowsPerStep, double roundMs, double computeMs,
                        double examplesPerSecond, double efficiency) {
    }

    /** Weak scaling of {@code base}'s model, k and exchange to {@code executors} with b rows per partition step. */
    public static Point weak(CostModel model, RoundConfig base, int executors, int coresPerExecutor, int rowsPerStep) {
        RoundConfig config = configure(base, executors, coresPerExecutor, rowsPerStep);
        double round = model.roundMs(config);
        double examples = (double) config.partitions() * config.localSteps() * rowsPerStep;
        double reference = model.computeMs(configure(base, 1, 1, rowsPerStep));
        return point(config, model, round, examples, reference / round);
    }

    /** Strong scaling of {@code base}'s model, k and exchange to {@code executors} at a global batch of B rows. */
    public static Point strong(CostModel model, RoundConfig base, int executors, int coresPerExecutor, int globalBatch) {
        if (globalBatch < 1) {
            throw new IllegalArgumentException("The global batch must be at least 1 row but got " + globalBatch);
        }
        int partitions = executors * coresPerExecutor;
        int rows = RoundConfig.ceilDiv(globalBatch, partitions);
        RoundConfig config = configure(base, executors, coresPerExecutor, rows);
        double round = model.roundMs(config);
        double examples = (double) config.localSteps() * globalBatch;
        double reference = model.computeMs(configure(base, 1, 1, globalBatch));
        return point(config, model, round, examples, reference / (partitions * round));
    }

    private static Point point(RoundConfig config, CostModel model, double roundMs, double examples, double efficiency) {
        return new Point(config.executors(), config.partitions(), config.rowsPerStep(), roundMs,
                model.computeMs(config), examples / (roundMs / 1000), efficiency);
    }

    private static RoundConfig configure(RoundConfig base, int executors, int cores, int rowsPerStep) {
        return new RoundConfig(base.exchange(), false, executors * cores, executors, cores, base.params(),
                base.localSteps(), base.stateSlots(), rowsPerStep, base.treeDepth(), executors * cores);
    }
}
