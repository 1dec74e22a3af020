package io.sparkprop.core;

import io.sparkprop.core.optim.Adam;
import java.util.List;

/**
 * Runs the step's kernels on a small network of its own, so that the JIT has compiled them before
 * the first real step needs them: a JVM's first training steps otherwise run interpreted or at
 * C1, and the native BLAS loads on the first product (measured on MNIST 784-256-128-10, 64 rows,
 * 2026-11-30: the first step of a new JVM 152 ms, the next nine 8-20 ms, every later one 2.3).
 * The JIT compiles a method, not a size, so a small network's steps compile the same code a
 * large one runs (only the branches they take: a network with other activations or losses may
 * recompile a little).
 *
 * <p>What runs: {@code steps} steps of {@link LocalRound} (the gather of a permuted slice,
 * forward, backward, the mean, the finiteness norm, Adam) on a 128-64-32-10 ReLU network with a
 * softmax cross-entropy output, batch 32, over 256 random rows; about 0.5 s of one core for the
 * default 2,000 steps in a new JVM, the native BLAS's loading and the JIT's compiling included.
 * Nothing it touches is shared with training: its own network, weights, workspace and optimizer,
 * seeded, so it is the same work every time. Training's bits do not
 * depend on it: compiled and interpreted Java compute the same IEEE results (JLS 15.4: every
 * floating-point operation is strict since Java 17).
 *
 * <p>Lifecycle: stateless; call {@link #run} from a thread that may be busy for that long (the
 * Spark job runs it on a daemon thread when an executor starts).
 */
public final class Warmup {

    /** The default number of steps: enough for C2 to compile every kernel of the step. */
    public static final int DEFAULT_STEPS = 2_000;

    private static final int ROWS = 256;
    private static final int BATCH = 32;

    private Warmup() {
    }

    /**
     * Runs {@code steps} training steps of the class comment's network and returns the nanoseconds
     * they took.
     *
     * @throws IllegalArgumentException when {@code steps} is negative
     */
    public static long run(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("Expected a number of warm-up steps >= 0 but got " + steps);
        }
        long begin = System.nanoTime();
        NetworkSpec spec = NetworkSpec.of(new int[] {128, 64, 32, 10}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        SplitMix64 random = new SplitMix64(20261130L);
        int in = spec.inputSize();
        int out = spec.outputSize();
        double[] x = new double[ROWS * in];
        double[] y = new double[ROWS * out];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble();
        }
        for (int r = 0; r < ROWS; r++) {
            y[r * out + (int) (random.nextDouble() * out)] = 1.0;
        }
        List<DataBlock> blocks = List.of(new DataBlock(ROWS, in, out, x, y, null));
        int stepsPerEpoch = ROWS / BATCH;
        Network network = new Network(spec);
        double[] params = WeightInit.initialize(spec, 1L);
        Adam adam = new Adam(spec.paramCount());
        LocalRound round = new LocalRound(network, new StepRule(network, 0.0, 0.0),
                LocalRound.Workspaces.fixed(new Workspace(spec, BATCH)));
        for (int done = 0, epoch = 0; done < steps; epoch++) {
            int k = Math.min(stepsPerEpoch, steps - done);
            List<int[]> orders = List.of(EpochPlan.permutation(1L, epoch, 0, ROWS));
            round.run(params, adam, blocks, orders, new LocalRound.Origin(1L, epoch, 0), 0, k, stepsPerEpoch,
                    (j, applied) -> 1e-3, null);
            done += k;
        }
        return System.nanoTime() - begin;
    }
}
