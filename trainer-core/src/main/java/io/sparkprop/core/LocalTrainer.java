package io.sparkprop.core;

import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Optimizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Single-process mini-batch training over one in-memory {@link DataBlock}: the reference the
 * distributed trainer is compared against, and a quick way to train small problems.
 *
 * <p>It does exactly what the distributed trainer does with one partition: batches follow
 * {@link EpochPlan} (partition 0), and each epoch is a {@link LocalRound} of all its steps, each
 * step applying the one {@link StepRule} (the batch's {@link GradientAccumulator} divided once
 * with L2, checked for finiteness, clipped by global norm when asked, then the optimizer's step
 * with the schedule's rate for the global step number). Not thread-safe.
 */
public final class LocalTrainer {

    /**
     * @param batchSize the global mini-batch size {@code B}
     * @param epochs    passes over the data
     * @param seed      the one seed: initial weights and every shuffle derive from it
     * @param l2        L2 strength {@code λ >= 0} (objective {@code λ/(2m) Σ W²})
     * @param clipNorm  maximum global L2 norm of the gradient, or 0 for no clipping
     * @param sparseUpdate how the first layer is updated ({@link SparseUpdate}; LAZY needs it stored
     *                  {@link WeightLayout#IN_OUT})
     */
    public record Settings(int batchSize, int epochs, long seed, double l2, double clipNorm,
                           SparseUpdate sparseUpdate) {

        /** Settings with dense updates. */
        public Settings(int batchSize, int epochs, long seed, double l2, double clipNorm) {
            this(batchSize, epochs, seed, l2, clipNorm, SparseUpdate.DENSE);
        }

        public Settings {
            if (sparseUpdate == null) {
                throw new IllegalArgumentException("The sparse update must be given but got null");
            }
            if (batchSize <= 0) {
                throw new IllegalArgumentException("Batch size must be positive but got " + batchSize);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException("Epochs must be >= 0 but got " + epochs);
            }
            if (!(l2 >= 0.0 && l2 < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("L2 strength must be finite and >= 0 but got " + l2);
            }
            if (!(clipNorm >= 0.0 && clipNorm < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException("Clip norm must be finite and >= 0 (0 = off) but got " + clipNorm);
            }
        }
    }

    /** One epoch's mean training objective (the weighted mean of its steps' objectives). */
    public record EpochStats(int epoch, int steps, double meanObjective) {
    }

    /** The trained parameters (a fresh array) and the per-epoch history. */
    public record Result(double[] params, List<EpochStats> history) {
    }

    private final Network network;
    private final Settings settings;
    private final Optimizer optimizer;
    private final LearningRateSchedule schedule;

    public LocalTrainer(NetworkSpec spec, Settings settings, Optimizer optimizer, LearningRateSchedule schedule) {
        this(spec, settings, optimizer, schedule, Precision.FLOAT64);
    }

    /** A trainer whose matrix products run in {@code precision} ({@link Precision}). */
    public LocalTrainer(NetworkSpec spec, Settings settings, Optimizer optimizer, LearningRateSchedule schedule,
                        Precision precision) {
        this(new Network(spec, precision), settings, optimizer, schedule);
    }

    /**
     * A trainer of {@code network}: its precision, and its {@link Dropout}, whose masks at epoch
     * {@code e}, step {@code s} come from the key {@code (settings.seed(), e, s, partition 0)}.
     */
    public LocalTrainer(Network network, Settings settings, Optimizer optimizer, LearningRateSchedule schedule) {
        if (network == null || settings == null || optimizer == null || schedule == null) {
            throw new IllegalArgumentException("Network, settings, optimizer and schedule must all be given");
        }
        this.network = network;
        this.settings = settings;
        this.optimizer = optimizer;
        this.schedule = schedule;
    }

    /** Trains from seeded initial weights ({@link WeightInit#initialize}). */
    public Result fit(DataBlock data) {
        return fit(data, WeightInit.initialize(network.spec(), settings.seed()));
    }

    /**
     * Trains from {@code initialParams} (not modified). Throws {@code IllegalStateException} naming
     * the epoch and step if the objective or the gradient becomes non-finite.
     *
     * <p>Each epoch is one {@link LocalRound} of all its steps on partition 0, with L2 unscaled. The
     * schedule's position is the number of optimizer steps taken so far, so a batch of zero total
     * weight, which the rule skips, does not advance it.
     */
    public Result fit(DataBlock data, double[] initialParams) {
        List<DataBlock> blocks = List.of(data);
        return fit(data.rows(), epoch -> EpochRows.ofBlocks(blocks,
                List.of(EpochPlan.permutation(settings.seed(), epoch, 0, data.rows()))), initialParams);
    }

    /**
     * Trains over {@code chunks} (the partition's chunks, in chunk order) in the windowed order of
     * {@code train.shuffle = window} with a shuffle buffer of {@code windowChunks} chunks
     * ({@link WindowPlan}, partition 0), from {@code initialParams} (not modified): what the
     * distributed trainer does in that mode with one partition. Chunks must not be empty.
     *
     * @throws IllegalArgumentException for an empty chunk or {@code windowChunks < 1}
     */
    public Result fitWindowed(List<DataBlock> chunks, int windowChunks, double[] initialParams) {
        int[] chunkRows = new int[chunks.size()];
        long rows = 0;
        for (int c = 0; c < chunkRows.length; c++) {
            chunkRows[c] = chunks.get(c).rows();
            rows += chunkRows[c];
        }
        if (rows > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("The chunks hold " + rows + " rows, more than one partition can");
        }
        return fit((int) rows, epoch -> new WindowedRows(WindowPlan.of(settings.seed(), epoch, 0, chunkRows,
                windowChunks), chunks::get, null), initialParams);
    }

    /** The loop of {@link #fit(DataBlock, double[])}, each epoch's rows from {@code epochRows}. */
    private Result fit(int rows, java.util.function.IntFunction<EpochRows> epochRows, double[] initialParams) {
        NetworkSpec spec = network.spec();
        if (initialParams.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.paramCount()
                    + " parameters but got " + initialParams.length);
        }
        double[] params = initialParams.clone();
        int steps = EpochPlan.stepsPerEpoch(rows, settings.batchSize());
        Workspace ws = new Workspace(spec, EpochPlan.maxSlice(rows, steps));
        LocalRound round = new LocalRound(network, new StepRule(network, settings.l2(), settings.clipNorm(),
                settings.sparseUpdate()),
                LocalRound.Workspaces.fixed(ws));
        List<EpochStats> history = new ArrayList<>();
        long globalStep = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            long first = globalStep;
            LocalRound.Result done = round.run(params, optimizer, epochRows.apply(epoch),
                    new LocalRound.Origin(settings.seed(), epoch, 0), 0, steps, steps,
                    (j, applied) -> schedule.rate(first + applied), null);
            globalStep += done.applied();
            LocalRound.NonFinite stop = done.nonFinite();
            if (stop != null) {
                throw new IllegalStateException("Non-finite " + stop.quantity() + " at epoch " + epoch + " step "
                        + stop.step() + " (global step " + globalStep + "): objective " + stop.objective()
                        + ", gradient norm " + stop.gradientNorm());
            }
            history.add(new EpochStats(epoch, steps, done.objectiveSum() / done.weightSum()));
        }
        return new Result(params, Collections.unmodifiableList(history));
    }
}
