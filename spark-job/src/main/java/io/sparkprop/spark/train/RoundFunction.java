package io.sparkprop.spark.train;

import io.sparkprop.core.EpochRows;
import io.sparkprop.core.LocalRound;
import io.sparkprop.core.Network;
import io.sparkprop.core.StepRule;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.config.OptimizerFactory;
import java.util.Iterator;
import java.util.Locale;

/**
 * One local-SGD round on one partition, run by a Spark task: the Spark adapter of the core's
 * {@link LocalRound}. It reads the round's start (weights, then the optimizer's state slots) from
 * the broadcast, restores a private copy of the optimizer from it, runs the round's {@code k}
 * consecutive steps of the epoch plan on this partition's blocks (each step the partition's slice
 * of that global batch, the same rows it would contribute in synchronous training) with L2 scaled
 * by the partition's share of the rows ({@link LocalRound#partitionL2}) and the driver's rate for
 * each global step, and returns the final weights and state with the round's loss sums as a
 * {@link RoundResult}. The update itself is the core's {@link StepRule}; the partition's rows
 * come from its {@link PartitionRows} (the block in its permutation, or the chunks in the
 * windowed order through the executor's shuffle buffer), workspaces from {@link ExecutorCache}.
 *
 * <p>The result depends on {@code (broadcast, seed, epoch, steps, partition)} only, never on the
 * task attempt, so a retried task returns the same bits. A non-finite loss or gradient stops the
 * partition's round and is reported, naming the partition and step. The test hooks of
 * {@link StepFunction} apply: a failure or a straggler injected at the round's first global
 * step, and a NaN injected into partition 0's sums of a named global step (before the mean).
 */
final class RoundFunction<T> implements OrderedTreeAggregate.PartitionFunction<T, RoundResult> {

    private static final long serialVersionUID = 1L;

    private final org.apache.spark.broadcast.Broadcast<WireArrays> start;
    private final Network network;
    private final OptimizerFactory optimizers;
    private final String optimizerKind;
    private final long optimizerSteps;
    private final long seed;
    private final int epoch;
    private final int firstStep;
    private final int stepsPerEpoch;
    private final long firstGlobalStep;
    private final double[] rates;
    private final double l2;
    private final long totalRows;
    private final double clipNorm;
    private final PartitionRows<T> source;
    private final io.sparkprop.core.SparseUpdate sparseUpdate;
    /**
     * A lazy round's rows: the values, at the round's start, of every row changed since {@link
     * #start} (the base) was made, or of every row the round's partitions use when there is no
     * base (a pull), and of the layers above; null for a dense round.
     */
    private final org.apache.spark.broadcast.Broadcast<io.sparkprop.core.IndexedRows> update;

    /**
     * @param start  weights, then the optimizer's state slots, at the round's start, as the wire
     *               carries them ({@code train.exchange-precision}); for a lazy round the base its
     *               update is over, or null when the update is a pull of every row the round uses
     * @param rates  the learning rate of each of the round's steps; its length is {@code k}
     * @param source how the task's input becomes the partition's rows ({@code train.shuffle})
     * @param sparseUpdate how the first layer is updated ({@code train.sparse-update})
     * @param update a lazy round's rows (over the base {@code start}, or a pull); null for a dense round
     */
    RoundFunction(org.apache.spark.broadcast.Broadcast<WireArrays> start, Network network,
                  OptimizerFactory optimizers,
                  String optimizerKind, long optimizerSteps, long seed, int epoch, int firstStep, int stepsPerEpoch,
                  long firstGlobalStep, double[] rates, double l2, long totalRows, double clipNorm,
                  PartitionRows<T> source, io.sparkprop.core.SparseUpdate sparseUpdate,
                  org.apache.spark.broadcast.Broadcast<io.sparkprop.core.IndexedRows> update) {
        this.start = start;
        this.network = network;
        this.optimizers = optimizers;
        this.optimizerKind = optimizerKind;
        this.optimizerSteps = optimizerSteps;
        this.seed = seed;
        this.epoch = epoch;
        this.firstStep = firstStep;
        this.stepsPerEpoch = stepsPerEpoch;
        this.firstGlobalStep = firstGlobalStep;
        this.rates = rates;
        this.l2 = l2;
        this.totalRows = totalRows;
        this.clipNorm = clipNorm;
        this.source = source;
        this.sparseUpdate = sparseUpdate;
        this.update = update;
        if ((update != null) != (sparseUpdate == io.sparkprop.core.SparseUpdate.LAZY)) {
            throw new IllegalArgumentException("A lazy round needs its row update, a dense one none");
        }
        if (start == null && update == null) {
            throw new IllegalArgumentException("A dense round needs its start broadcast");
        }
    }

    @Override
    public RoundResult apply(int partition, Iterator<T> input) {
        StepFunction.injectFailureIfAsked(partition, firstGlobalStep);
        if (update != null) {
            return applyLazy(partition, input);
        }
        long begin = System.nanoTime();
        WireArrays initial = start.value(); // shared by the tasks of this JVM: copied
        double[] params = initial.copy(0);
        double[][] slots = new double[initial.arrays() - 1][];
        for (int s = 0; s < slots.length; s++) {
            slots[s] = initial.copy(s + 1);
        }
        Optimizer optimizer = optimizers.create();
        optimizer.adopt(new OptimizerState(optimizerKind, optimizerSteps, slots)); // the copies above, not copied again
        EpochRows own = source.open(partition, input, seed, epoch);
        StepRule rule = new StepRule(network, LocalRound.partitionL2(l2, own.rows(), totalRows), clipNorm,
                sparseUpdate);
        LocalRound round = new LocalRound(network, rule, ExecutorCache.WORKSPACES);
        LocalRound.Result done = round.run(params, optimizer, own,
                new LocalRound.Origin(seed, epoch, partition), firstStep, rates.length, stepsPerEpoch,
                (j, applied) -> rates[j], (j, sums) -> {
                    if (StepFunction.nanRequested(partition, firstGlobalStep + j, firstGlobalStep + j + 1)) {
                        sums.gradSum()[sums.gradSum().length - 1] = Double.NaN;
                    }
                });
        source.close(own);
        String nonFinite = null;
        LocalRound.NonFinite stop = done.nonFinite();
        if (stop != null) {
            nonFinite = String.format(Locale.ROOT, "Non-finite %s in partition %d at epoch %d step %d (global"
                            + " step %d) of a local-SGD round: objective %s, gradient norm %s", stop.quantity(),
                    partition, epoch + 1, stop.step() + 1, firstGlobalStep + (stop.step() - firstStep),
                    stop.objective(), stop.gradientNorm());
        }
        double[][] values = new double[initial.arrays()][];
        values[0] = params;
        double[][] live = optimizer.slots(); // the task's own copies: no need to copy them again
        System.arraycopy(live, 0, values, 1, live.length);
        return new RoundResult(values, done.objectiveSum(), done.weightSum(), done.count(),
                System.nanoTime() - begin, nonFinite);
    }

    /**
     * A lazy round on a working set ({@link io.sparkprop.core.WorkingSet}): the rows of the
     * features the round's rows use (announced by the source, or copied in as the steps first
     * gather them), at the round's start (the update's values, else the base's), and the layers
     * above, in a compact network; the steps taken on it; the change {@code current - start}
     * returned row-sparse in the wide model's rows. The base is read, never copied whole; without
     * a base the update holds every row the round uses.
     */
    private RoundResult applyLazy(int partition, Iterator<T> input) {
        long begin = System.nanoTime();
        double[][] baseValues = start == null ? null : start.value().shared(); // READ ONLY: shared by the tasks of this JVM
        io.sparkprop.core.IndexedRows rowUpdate = update.value();
        EpochRows own = source.open(partition, input, seed, epoch);
        int features = network.spec().inputSize();
        java.util.BitSet columns = new java.util.BitSet(features);
        boolean announced = own.columnsOf(firstStep, rates.length, stepsPerEpoch, columns);
        io.sparkprop.core.WorkingSet set = ExecutorCache.takeWorkingSet(network.spec(), rowUpdate.arrays(),
                announced ? columns.cardinality() : features);
        EpochRows rows = set.begin(baseValues, rowUpdate, announced ? columns : null, own);
        double[][] values = set.values();
        double[][] slots = new double[values.length - 1][];
        System.arraycopy(values, 1, slots, 0, slots.length);
        Optimizer optimizer = optimizers.forSpec(set.spec()).create();
        optimizer.adopt(new OptimizerState(optimizerKind, optimizerSteps, slots));
        Network compact = new Network(set.spec(), network.precision(), network.dropout());
        StepRule rule = new StepRule(compact, LocalRound.partitionL2(l2, own.rows(), totalRows), clipNorm,
                sparseUpdate);
        LocalRound round = new LocalRound(compact, rule, set.workspaces(ExecutorCache.WORKSPACES), set.sums());
        LocalRound.Result done = round.run(values[0], optimizer, rows, new LocalRound.Origin(seed, epoch, partition),
                firstStep, rates.length, stepsPerEpoch, (j, applied) -> rates[j], (j, sums) -> {
                    if (StepFunction.nanRequested(partition, firstGlobalStep + j, firstGlobalStep + j + 1)) {
                        sums.gradSum()[sums.gradSum().length - 1] = Double.NaN;
                    }
                });
        source.close(own);
        RoundResult result = RoundResult.lazy(set.change(round.touchedRows()), set.features(round.touchedRows()),
                done.objectiveSum(), done.weightSum(), done.count(), System.nanoTime() - begin,
                nonFinite(partition, done.nonFinite()));
        ExecutorCache.putWorkingSet(set);
        return result;
    }

    private String nonFinite(int partition, LocalRound.NonFinite stop) {
        return stop == null ? null : String.format(Locale.ROOT, "Non-finite %s in partition %d at epoch %d step %d"
                        + " (global step %d) of a local-SGD round: objective %s, gradient norm %s", stop.quantity(),
                partition, epoch + 1, stop.step() + 1, firstGlobalStep + (stop.step() - firstStep), stop.objective(),
                stop.gradientNorm());
    }
}
