package io.sparkprop.spark.train;

import io.sparkprop.core.DataBlock;
import io.sparkprop.core.EpochPlan;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.OptimizerState;
import io.sparkprop.spark.config.OptimizerFactory;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * One local-SGD round on one partition, run by a Spark task: starting from the broadcast weights
 * and optimizer state, take the round's {@code k} consecutive steps of the epoch plan on this
 * partition's rows only (each step is the partition's slice of that global batch, the same rows
 * it would contribute in synchronous training), updating a private copy of the weights and the
 * optimizer after every step; return the final weights and state with the round's loss sums.
 *
 * <p>Each local step computes the mean gradient of its slice with L2 scaled by the partition's
 * share of all training rows ({@code λ · rows_p / rows}), so that {@code λ/m} per step means what
 * it means in synchronous training, clips it when clipping is on, and applies the optimizer at the
 * driver-supplied rate of that global step. A slice of zero total weight is skipped.
 *
 * <p>The result depends on {@code (broadcast, seed, epoch, steps, partition)} only, never on the
 * task attempt, so a retried task returns the same bits. A non-finite loss or gradient stops the
 * partition's round and is reported, naming the partition and step.
 */
final class RoundFunction implements OrderedTreeAggregate.PartitionFunction<DataBlock, RoundResult> {

    private static final long serialVersionUID = 1L;

    private final org.apache.spark.broadcast.Broadcast<double[][]> start;
    private final NetworkSpec spec;
    private final Precision precision;
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

    /**
     * @param start  weights, then the optimizer's state slots, at the round's start
     * @param rates  the learning rate of each of the round's steps; its length is {@code k}
     */
    RoundFunction(org.apache.spark.broadcast.Broadcast<double[][]> start, NetworkSpec spec, Precision precision,
                  OptimizerFactory optimizers,
                  String optimizerKind, long optimizerSteps, long seed, int epoch, int firstStep, int stepsPerEpoch,
                  long firstGlobalStep, double[] rates, double l2, long totalRows, double clipNorm) {
        this.start = start;
        this.spec = spec;
        this.precision = precision;
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
    }

    @Override
    public RoundResult apply(int partition, Iterator<DataBlock> blocks) {
        StepFunction.injectFailureIfAsked(partition, firstGlobalStep);
        long begin = System.nanoTime();
        double[][] initial = start.value(); // shared by the tasks of this JVM: read only
        double[] params = initial[0].clone();
        double[][] slots = new double[initial.length - 1][];
        for (int s = 0; s < slots.length; s++) {
            slots[s] = initial[s + 1].clone();
        }
        Optimizer optimizer = optimizers.create();
        optimizer.restore(new OptimizerState(optimizerKind, optimizerSteps, slots));
        List<DataBlock> own = new ArrayList<>(1);
        blocks.forEachRemaining(own::add);
        long rows = 0;
        for (DataBlock block : own) {
            rows += block.rows();
        }
        Network network = new Network(spec, precision);
        GradientAccumulator accumulator = new GradientAccumulator(spec.paramCount());
        double[] grad = new double[spec.paramCount()];
        double localL2 = l2 * ((double) rows / totalRows);
        double objectiveSum = 0.0;
        double weightSum = 0.0;
        long count = 0;
        String nonFinite = null;
        for (int j = 0; j < rates.length && nonFinite == null; j++) {
            int step = firstStep + j;
            accumulator.reset();
            for (DataBlock block : own) {
                int n = block.rows();
                int from = EpochPlan.sliceStart(step, n, stepsPerEpoch);
                int to = EpochPlan.sliceStart(step + 1, n, stepsPerEpoch);
                if (to == from) {
                    continue;
                }
                int[] order = ExecutorCache.permutation(seed, epoch, partition, n);
                Workspace ws = ExecutorCache.borrow(spec, EpochPlan.maxSlice(n, stepsPerEpoch));
                try {
                    accumulator.add(network, params, ws.gather(block, order, from, to));
                } finally {
                    ExecutorCache.release(ws);
                }
            }
            if (!(accumulator.weightSum() > 0.0)) {
                continue; // no rows of positive weight in this slice: nothing to learn from
            }
            if (StepFunction.nanRequested(partition, firstGlobalStep + j, firstGlobalStep + j + 1)) {
                accumulator.gradSum()[0] = Double.NaN;
            }
            double objective = accumulator.mean(network, params, localL2, grad);
            double norm = GradientClipping.stepNorm(grad, clipNorm);
            if (!Double.isFinite(objective) || !Double.isFinite(norm)) {
                nonFinite = String.format(Locale.ROOT, "Non-finite %s in partition %d at epoch %d step %d (global"
                                + " step %d) of a local-SGD round: objective %s, gradient norm %s",
                        Double.isFinite(objective) ? "gradient" : "loss", partition, epoch + 1, step + 1,
                        firstGlobalStep + j, objective, norm);
                break;
            }
            if (clipNorm > 0.0) {
                GradientClipping.clipToNorm(grad, norm, clipNorm);
            }
            optimizer.step(params, grad, rates[j]);
            objectiveSum += objective * accumulator.weightSum();
            weightSum += accumulator.weightSum();
            count += accumulator.count();
        }
        double[][] values = new double[initial.length][];
        values[0] = params;
        OptimizerState state = optimizer.state();
        for (int s = 0; s < state.slots().length; s++) {
            values[s + 1] = state.slots()[s];
        }
        return new RoundResult(values, objectiveSum, weightSum, count, System.nanoTime() - begin, nonFinite);
    }
}
