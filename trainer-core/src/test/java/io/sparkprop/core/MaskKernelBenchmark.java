package io.sparkprop.core;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The kernels that select per unit on data the branch predictor cannot learn, each next to its
 * peer written as the plain comparison in the same run: ReLU forward and backward over a 64-row
 * step of MNIST's 256 + 128 hidden units ({@code 64 x 384}), and a dropout mask at rate 0.5.
 * {@code signs}: {@code mixed}, pre-activations whose signs are coin flips (a trained network's,
 * and a fresh batch each call from a pool of 64, so that no pattern repeats), or {@code negative}
 * (all dead units: the branch always goes one way, the comparison's best case; the dropout draw
 * does not read them). Run it with
 * {@code scripts/bench-core kernels}. In the core's package (test sources) for the package-private
 * {@link Dropout#drawMask}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class MaskKernelBenchmark {

    private static final int ROWS = 64;
    private static final int UNITS = 384;
    private static final int POOL = 64;

    @Param({"mixed", "negative"})
    public String signs;

    private double[][] pre;
    private double[] h;
    private double[] g;
    private double[] mask;
    private int[] rowIds;
    private int next;

    @Setup
    public void setUp() {
        SplitMix64 random = new SplitMix64(11);
        pre = new double[POOL][ROWS * UNITS];
        for (double[] a : pre) {
            for (int i = 0; i < a.length; i++) {
                double u = random.nextDouble();
                a[i] = "mixed".equals(signs) ? u - 0.5 : -u - 1e-3;
            }
        }
        h = new double[ROWS * UNITS];
        g = new double[ROWS * UNITS];
        mask = new double[ROWS * UNITS];
        rowIds = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            rowIds[r] = 13 * r;
        }
    }

    private double[] nextBatch() {
        next = (next + 1) % POOL;
        return pre[next];
    }

    /** {@link Activation#RELU}'s forward kernel (a mask, no branch). */
    @Benchmark
    public double[] reluForward() {
        Activation.RELU.forward(nextBatch(), h, ROWS, UNITS);
        return h;
    }

    /** The peer: {@code h = a > 0 ? a : 0.0}, as the kernel read before. */
    @Benchmark
    public double[] reluForwardComparison() {
        double[] a = nextBatch();
        for (int i = 0; i < a.length; i++) {
            double v = a[i];
            h[i] = v > 0.0 ? v : 0.0;
        }
        return h;
    }

    /** {@link Activation#RELU}'s backward kernel on a gradient of ones. */
    @Benchmark
    public double[] reluBackward() {
        Arrays.fill(g, 1.0);
        Activation.RELU.backward(nextBatch(), h, g, ROWS, UNITS);
        return g;
    }

    /** The peer: {@code if (!(a > 0)) g = 0}, as the kernel read before. */
    @Benchmark
    public double[] reluBackwardComparison() {
        Arrays.fill(g, 1.0);
        double[] a = nextBatch();
        for (int i = 0; i < a.length; i++) {
            if (!(a[i] > 0.0)) {
                g[i] = 0.0;
            }
        }
        return g;
    }

    /** A dropout mask at rate 0.5 for the step's hidden units ({@link Workspace#setDropoutKey}'s draw). */
    @Benchmark
    public double[] dropoutMask() {
        next = (next + 1) % POOL;
        Dropout.drawMask(0.5, next, rowIds, ROWS, UNITS, 0L, mask);
        return mask;
    }

    /** The peer: {@code doubleAt(...) < rate ? 0 : scale}, as the mask was drawn before. */
    @Benchmark
    public double[] dropoutMaskComparison() {
        next = (next + 1) % POOL;
        double scale = 2.0;
        for (int r = 0; r < ROWS; r++) {
            long rowSeed = SplitMix64.extend(next, rowIds[r]);
            for (int j = 0; j < UNITS; j++) {
                mask[r * UNITS + j] = SplitMix64.doubleAt(rowSeed, j) < 0.5 ? 0.0 : scale;
            }
        }
        return mask;
    }
}
