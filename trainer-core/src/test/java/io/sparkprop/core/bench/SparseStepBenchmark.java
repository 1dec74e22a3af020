package io.sparkprop.core.bench;

import io.sparkprop.core.Activation;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.SparseUpdate;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.StepRule;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.WeightLayout;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.Sgd;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One lazy training step ({@code train.sparse-update = lazy}) of a {@code W-64-32-2} network on
 * {@code batch} sparse rows of 40 nonzeros each, the columns drawn Zipf-like (s = 1) from the W
 * rows: what a local-SGD round's task computes per step on its working set (docs/sparse.md), where
 * W is the round's touched rows (about 48,000 at 2^18 features, k = 64, batch 128). Forward,
 * backward, the sparse first layer's row gradient, the lazy step (mean, norm, optimizer over the
 * touched rows) and the reset of the touched rows. The figure is the in-task compute's roof: a
 * round's measured compute over its 64 steps, against 64 of these, is the task's overhead.
 * Run it with {@code scripts/bench-core sparse}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SparseStepBenchmark {

    /** Scatters Zipf ranks over the rows: Knuth's multiplicative hash, a prime (coprime to any width below it). */
    private static final long SCATTER = 2654435761L;

    /** Nonzeros per row, as scripts/bench-sparse generates them. */
    public static final int NONZEROS = 40;

    /** The working set's rows (the first layer's input width here). */
    @Param({"49152"})
    public int width;

    /** Rows per step and partition: half the default global batch of 128 on two partitions. */
    @Param({"64"})
    public int batch;

    /** The optimizer, by its config name. */
    @Param({"sgd", "adam"})
    public String optimizer;

    private Network network;
    private StepRule rule;
    private GradientAccumulator sums;
    private Optimizer opt;
    private double[] params;
    private Workspace[] steps;
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        NetworkSpec spec = NetworkSpec.of(new int[] {width, 64, 32, 2}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY).withFirstLayerLayout(WeightLayout.IN_OUT);
        network = new Network(spec, Precision.FLOAT64);
        params = WeightInit.initialize(spec, 1);
        rule = new StepRule(network, 0.0, 0.0, SparseUpdate.LAZY);
        sums = new GradientAccumulator(spec.paramCount()).trackRows(spec);
        opt = "adam".equals(optimizer) ? new Adam(spec.paramCount()) : new Sgd(spec.paramCount());
        // Zipf(1) over the width by inverse CDF on the harmonic numbers, ranks scattered by a
        // multiplicative permutation (a multiplier coprime to the width is a bijection mod it).
        double[] cdf = new double[width];
        double total = 0;
        for (int i = 0; i < width; i++) {
            total += 1.0 / (i + 1);
            cdf[i] = total;
        }
        SplitMix64 random = new SplitMix64(7);
        int blocks = 64;
        steps = new Workspace[blocks];
        for (int b = 0; b < blocks; b++) {
            int[] rowStart = new int[batch + 1];
            int[] columns = new int[batch * NONZEROS];
            double[] values = new double[columns.length];
            double[] targets = new double[batch * 2];
            for (int r = 0; r < batch; r++) {
                java.util.TreeSet<Integer> row = new java.util.TreeSet<>();
                while (row.size() < NONZEROS) {
                    int rank = java.util.Arrays.binarySearch(cdf, random.nextDouble() * total);
                    rank = rank < 0 ? -rank - 1 : rank;
                    row.add((int) (rank * SCATTER % width));
                }
                int p = r * NONZEROS;
                for (int c : row) {
                    columns[p] = c;
                    values[p++] = 1.0;
                }
                rowStart[r + 1] = p;
                targets[r * 2 + random.nextInt(2)] = 1.0;
            }
            DataBlock block = DataBlock.sparse(batch, width, 2, rowStart, columns, values, targets, null);
            steps[b] = new Workspace(spec, batch).load(block, 0, batch);
        }
    }

    /** Forward + backward + the lazy step, over the next of 64 prepared batches. */
    @Benchmark
    public double lazyStep() {
        Workspace ws = steps[next];
        next = (next + 1) % steps.length;
        sums.reset().add(network, params, ws);
        rule.apply(sums, params, opt, 1e-4);
        return rule.objective();
    }
}
