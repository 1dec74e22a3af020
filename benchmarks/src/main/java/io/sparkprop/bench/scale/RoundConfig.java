package io.sparkprop.bench.scale;

/**
 * One configuration of a training round: what the cost model needs to count a round's stages, tasks
 * and bytes ({@link RoundStructure}) and its compute. A measured round carries one
 * ({@link Measurement}); the scaling table builds them for configurations never measured.
 *
 * @param exchange how partials reach the driver
 * @param exchangeOnly the round with its compute removed (the harness's exchange-only rounds): the
 *     same broadcast, jobs and bytes, no local steps
 * @param partitions P, the training partitions (one task each in the compute stage)
 * @param executors E, the executors the tasks run on
 * @param coresPerExecutor task slots per executor; P above {@code E * cores} runs the compute in waves
 * @param params N, the network's parameter count
 * @param localSteps k: 1 is synchronous SGD (the gradient is exchanged, the optimizer runs on the
 *     driver); above 1 every partition takes k local steps and the weights and optimizer state are
 *     exchanged
 * @param stateSlots the optimizer's state arrays exchanged with the weights when k > 1
 *     ({@code OptimizerState.slots().length}: Adam 2, momentum and Nesterov 1, SGD 0)
 * @param rowsPerStep b, the rows of the slowest partition in one local step (its share of the global
 *     batch); 0 only for an exchange-only round
 * @param treeDepth the tree's depth ({@code train.aggregation-depth}); not used by reduce-scatter
 * @param hostCores the physical cores the executors share: at least {@link #slots()} on a cluster
 *     where every task slot has a core of its own; fewer when the harness runs E one-core workers on
 *     one smaller host, so that concurrent tasks time-share ({@link #timeSharing()})
 */
public record RoundConfig(ExchangeKind exchange, boolean exchangeOnly, int partitions, int executors,
                          int coresPerExecutor, long params, int localSteps, int stateSlots, int rowsPerStep,
                          int treeDepth, int hostCores) {

    /** Bytes of one double: weights, gradients and optimizer state travel as doubles. */
    public static final int BYTES_PER_VALUE = 8;

    public RoundConfig {
        if (exchange == null) {
            throw new IllegalArgumentException("The exchange kind must be given but got null");
        }
        requireAtLeast("partitions", partitions, 1);
        requireAtLeast("executors", executors, 1);
        requireAtLeast("cores per executor", coresPerExecutor, 1);
        requireAtLeast("params", params, 1);
        requireAtLeast("local steps", localSteps, 1);
        requireAtLeast("state slots", stateSlots, 0);
        requireAtLeast("rows per step", rowsPerStep, exchangeOnly ? 0 : 1);
        requireAtLeast("tree depth", treeDepth, 1);
        requireAtLeast("host cores", hostCores, 1);
    }

    /**
     * Arrays of N doubles one partition sends per round, and the driver broadcasts: the gradient
     * (k = 1; the broadcast is the weights), or the weights and the optimizer's state slots (k > 1).
     */
    public int exchangedArrays() {
        return localSteps == 1 ? 1 : 1 + stateSlots;
    }

    /** M: the bytes of one partition's partial, and of the broadcast. */
    public long messageBytes() {
        return (long) BYTES_PER_VALUE * params * exchangedArrays();
    }

    /** The bytes of the weights alone, 8 N. */
    public long parameterBytes() {
        return (long) BYTES_PER_VALUE * params;
    }

    /** Task slots: E times the cores per executor. */
    public int slots() {
        return executors * coresPerExecutor;
    }

    /** How many waves the compute stage's P tasks run in on the slots: ceil(P / slots). */
    public int waves() {
        return ceilDiv(partitions, slots());
    }

    /**
     * How many times slower a task runs than alone on a core because the tasks running at once,
     * min(P, slots), share the host's cores: {@code max(1, min(P, slots) / hostCores)}. 1 on a
     * cluster with a core per slot; 4 for 8 one-core workers on a 2-core host.
     */
    public double timeSharing() {
        return Math.max(1.0, (double) Math.min(partitions, slots()) / hostCores);
    }

    /** This configuration on a cluster where every task slot has a core of its own (hostCores = slots). */
    public RoundConfig withCorePerSlot() {
        return new RoundConfig(exchange, exchangeOnly, partitions, executors, coresPerExecutor, params, localSteps,
                stateSlots, rowsPerStep, treeDepth, slots());
    }

    /** Examples a round trains on, summed over partitions: P k b (0 when exchange-only). */
    public long examplesPerRound() {
        return exchangeOnly ? 0 : (long) partitions * localSteps * rowsPerStep;
    }

    /**
     * This configuration at another partition and executor count, with a core per slot (hostCores =
     * the new slots), everything else kept.
     */
    public RoundConfig at(int newPartitions, int newExecutors, int newRowsPerStep) {
        return new RoundConfig(exchange, exchangeOnly, newPartitions, newExecutors, coresPerExecutor, params,
                localSteps, stateSlots, newRowsPerStep, treeDepth, newExecutors * coresPerExecutor);
    }

    static int ceilDiv(long a, long b) {
        return (int) ((a + b - 1) / b);
    }

    private static void requireAtLeast(String what, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException("A round's " + what + " must be at least " + min + " but got " + value);
        }
    }
}
