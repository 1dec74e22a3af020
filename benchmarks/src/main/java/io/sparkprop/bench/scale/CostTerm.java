package io.sparkprop.bench.scale;

/**
 * The terms of {@link CostModel}: each a feature counted from a {@link RoundConfig} and its
 * {@link RoundStructure}, priced by one non-negative fitted coefficient. {@code coefficient *
 * feature(...)} is milliseconds. The compute terms give one partition's compute in a round; the
 * overhead terms give everything else in the round.
 */
public enum CostTerm {

    /** Forward and backward passes: k b N row-parameters, about 6 FLOPs each. */
    ROW_PARAMS(true, "compute per row and parameter (forward, backward)", "ns/(row*param)"),
    /** The optimizer's step inside the task when k > 1: k N parameter-steps (0 for k = 1, where it is on the driver). */
    LOCAL_UPDATE(true, "compute per parameter and local optimizer step (k > 1)", "ns/(param*step)"),
    /**
     * Each local step's fixed work, whatever the model's size: gathering the step's rows from the
     * block, the per-layer calls, the loss; k per round.
     */
    STEP(true, "compute per local step (row gather, per-layer calls)", "ms/step"),
    /**
     * A task's work on the whole model before and after its steps: reading the weights out of the
     * broadcast, its buffers, packing its partial result; N per round.
     */
    TASK_PARAMS(true, "compute per parameter and task (weights in, result out)", "ns/param"),
    /** One per round: submitting the job, creating and destroying the broadcast, the driver's loop. */
    ROUND(false, "per round (job submission, broadcast set-up)", "ms/round"),
    /** Stages of the round's job: scheduling each, its barrier, registering its shuffle output. */
    STAGE(false, "per stage", "ms/stage"),
    /** Tasks of the round's job, serial on the driver: serializing, launching, the status update. */
    TASK(false, "per task (serial on the driver)", "ms/task"),
    /** Bytes through the driver: results in (received, deserialized, merged) and the broadcast out. */
    DRIVER_BYTES(false, "per MB through the driver (results in, broadcast out)", "ms/MB"),
    /**
     * Bytes into executors on the round's critical path: per step (the broadcast fetch, each shuffle
     * level) the busiest executor's, or the step's total over the host's cores when they time-share.
     */
    NETWORK_BYTES(false, "per MB into executors, critical path (broadcast, shuffle)", "ms/MB"),
    /** The driver's pass over the weights after the job: the optimizer step (k = 1) or averaging (k > 1). */
    UPDATE(false, "per MB of weights, the driver's update", "ms/MB");

    private static final double MB = 1e6;
    /** ns-denominated compute coefficients times the feature must give ms. */
    private static final double NS_TO_MS = 1e-6;

    private final boolean compute;
    private final String description;
    private final String unit;

    CostTerm(boolean compute, String description, String unit) {
        this.compute = compute;
        this.description = description;
        this.unit = unit;
    }

    /** True for the compute terms, false for the round's overhead terms. */
    public boolean isCompute() {
        return compute;
    }

    public String description() {
        return description;
    }

    /** The coefficient's unit. */
    public String unit() {
        return unit;
    }

    /**
     * The feature of {@code config}, scaled so that the coefficient (in {@link #unit()}) times it is
     * milliseconds. Compute terms are 0 for an exchange-only round, and count a partition's work
     * stretched by {@link RoundConfig#timeSharing()}: a task's wall time when the tasks running at
     * once share fewer cores, so the coefficients are per core.
     */
    public double feature(RoundConfig config, RoundStructure structure) {
        double k = config.localSteps();
        double n = config.params();
        boolean computes = !config.exchangeOnly();
        return switch (this) {
            case ROW_PARAMS -> computes ? k * config.rowsPerStep() * n * NS_TO_MS * config.timeSharing() : 0;
            case LOCAL_UPDATE -> computes && config.localSteps() > 1 ? k * n * NS_TO_MS * config.timeSharing() : 0;
            case STEP -> computes ? k * config.timeSharing() : 0;
            case TASK_PARAMS -> computes ? n * NS_TO_MS * config.timeSharing() : 0;
            case ROUND -> 1;
            case STAGE -> structure.stages();
            case TASK -> structure.tasks();
            case DRIVER_BYTES -> (structure.driverInBytes() + structure.driverOutBytes()) / MB;
            case NETWORK_BYTES -> structure.executorNetworkBytes() / MB;
            case UPDATE -> config.parameterBytes() / MB;
        };
    }
}
