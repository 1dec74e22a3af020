package io.sparkprop.core.bench;

import dev.ludovic.netlib.blas.BLAS;
import io.sparkprop.core.Activation;
import io.sparkprop.core.Blas;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.GradientAccumulator;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.Precision;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.WeightInit;
import io.sparkprop.core.Workspace;
import io.sparkprop.core.optim.Adam;
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
 * One training step of the 784-256-128-10 ReLU/softmax network (forward, backward, divide, Adam
 * update) on a batch of {@code batch} rows, and, as the peer measured in the same run, one plain
 * {@code dgemm} (and {@code sgemm}) of the step's largest product ({@code (256 x 784) · (784 x batch)}), for
 * both {@link Precision}s. Run it with
 * {@code scripts/bench-core}, which prints examples/s and GFLOP/s for both.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class StepBenchmark {

    /** The benchmarked topology. */
    public static final int[] SIZES = {784, 256, 128, 10};

    @Param({"128", "1024"})
    public int batch;

    /** The network's {@link Precision}, by its config name. */
    @Param({"float64", "float32"})
    public String precision;

    private Network network;
    private Workspace ws;
    private GradientAccumulator accumulator;
    private Adam adam;
    private double[] params;
    private double[] grad;
    private double[] gemmA;
    private double[] gemmB;
    private double[] gemmC;
    private float[] floatA;
    private float[] floatB;
    private float[] floatC;

    @Setup(Level.Trial)
    public void setUp() {
        NetworkSpec spec = NetworkSpec.of(SIZES, Activation.RELU, Activation.SOFTMAX, Loss.SOFTMAX_CROSS_ENTROPY);
        network = new Network(spec, Precision.of(precision));
        params = WeightInit.initialize(spec, 1);
        grad = new double[spec.paramCount()];
        accumulator = new GradientAccumulator(spec.paramCount());
        adam = new Adam(spec.paramCount());
        SplitMix64 random = new SplitMix64(2);
        double[] x = new double[batch * SIZES[0]];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble();
        }
        double[] y = new double[batch * 10];
        for (int r = 0; r < batch; r++) {
            y[r * 10 + random.nextInt(10)] = 1.0;
        }
        ws = new Workspace(spec, batch).load(new DataBlock(batch, SIZES[0], 10, x, y, null), 0, batch);
        gemmA = new double[SIZES[1] * SIZES[0]];
        gemmB = x.clone();
        gemmC = new double[SIZES[1] * batch];
        for (int i = 0; i < gemmA.length; i++) {
            gemmA[i] = random.nextDouble() - 0.5;
        }
        floatA = new float[gemmA.length];
        floatB = new float[gemmB.length];
        floatC = new float[gemmC.length];
        for (int i = 0; i < gemmA.length; i++) {
            floatA[i] = (float) gemmA[i];
        }
        for (int i = 0; i < gemmB.length; i++) {
            floatB[i] = (float) gemmB[i];
        }
    }

    /** Forward + backward + mean + Adam: what one partition and the driver do per step with one partition. */
    @Benchmark
    public double trainStep() {
        accumulator.reset().add(network, params, ws);
        double loss = accumulator.mean(network, params, 0.0, grad);
        adam.step(params, grad, 1e-4);
        return loss;
    }

    /** The step's largest product alone: {@code (256 x 784) · (784 x batch)}, as the forward pass issues it. */
    @Benchmark
    public double[] dgemm() {
        BLAS blas = Blas.get();
        blas.dgemm("T", "N", SIZES[1], batch, SIZES[0], 1.0, gemmA, 0, SIZES[0], gemmB, 0, SIZES[0], 0.0, gemmC, 0,
                SIZES[1]);
        return gemmC;
    }

    /** The same product in single precision, the peer of the float32 step. */
    @Benchmark
    public float[] sgemm() {
        BLAS blas = Blas.get();
        blas.sgemm("T", "N", SIZES[1], batch, SIZES[0], 1.0f, floatA, 0, SIZES[0], floatB, 0, SIZES[0], 0.0f, floatC,
                0, SIZES[1]);
        return floatC;
    }

    /**
     * Floating-point operations of one training step over {@code n} rows, counting the three
     * products per layer (2·m·n·k each): forward and weight gradients for every layer, input
     * gradients for all but the first. Element-wise work is not counted.
     */
    public static double stepFlops(int n) {
        double forward = 0;
        double inputGrads = 0;
        for (int k = 0; k + 1 < SIZES.length; k++) {
            double mac = (double) SIZES[k] * SIZES[k + 1];
            forward += 2.0 * n * mac;
            if (k > 0) {
                inputGrads += 2.0 * n * mac;
            }
        }
        return 2 * forward + inputGrads;
    }

    /** Floating-point operations of {@link #dgemm()}. */
    public static double gemmFlops(int n) {
        return 2.0 * SIZES[1] * SIZES[0] * n;
    }
}
