package io.sparkprop.core;

import java.util.Arrays;
import java.util.Locale;

/**
 * Checks the analytic gradient of a network against numerical differentiation, in double
 * precision, and reports the worst parameter. For users (the {@code gradcheck} command) as much as
 * for our tests.
 *
 * <p>The objective is the driver's: {@code J(θ) = (Σ w_i L_i + λ/2 Σ W²) / Σ w_i} over all rows of
 * the block. The numerical derivative is the fourth-order central difference
 * {@code (-J(θ+2ε) + 8J(θ+ε) - 8J(θ-ε) + J(θ-2ε)) / 12ε}, whose truncation error is {@code O(ε⁴)},
 * so an ε large enough to keep rounding error near {@code 1e-12} still gives a sharp estimate. The
 * error of parameter {@code i} is {@code |analytic - numeric| / max(|analytic|, |numeric|, floor)}:
 * relative, except that gradients below the absolute floor are compared absolutely, since their
 * relative error is all rounding noise.
 *
 * <p>ReLU-family activations are not differentiable at 0: a pre-activation within {@code 2ε} of 0
 * would make a correct gradient look wrong, so a parameter whose perturbation flips any ReLU unit
 * to the other side of 0 is skipped and counted. With ε = 1e-4 rounding error is about 1e-12, so
 * the floor of 1e-5 bounds the absolute error of near-zero gradients by 1e-11.
 *
 * <p>A network with {@link Dropout} is checked with a fixed mask
 * ({@link #check(Network, double[], DataBlock, double, Options, long)}): the objective is the
 * training pass's, every evaluation with the same dropout key, so the masks are constants and the
 * objective is an ordinary function of the parameters.
 */
public final class GradientCheck {

    /**
     * @param epsilon   the step {@code ε} (default {@code 1e-4})
     * @param tolerance the largest acceptable error (default {@code 1e-6})
     * @param absFloor  the denominator floor that makes tiny gradients compare absolutely (default {@code 1e-5})
     * @param maxParams check at most this many parameters, a seeded sample when the network has more
     * @param seed      the sample's seed
     */
    public record Options(double epsilon, double tolerance, double absFloor, int maxParams, long seed) {

        public Options {
            if (!(epsilon > 0.0 && epsilon < 1.0)) {
                throw new IllegalArgumentException("Gradient check epsilon must be in (0, 1) but got " + epsilon);
            }
            if (!(tolerance > 0.0)) {
                throw new IllegalArgumentException("Gradient check tolerance must be positive but got " + tolerance);
            }
            if (!(absFloor > 0.0)) {
                throw new IllegalArgumentException("Gradient check floor must be positive but got " + absFloor);
            }
            if (maxParams <= 0) {
                throw new IllegalArgumentException("Gradient check must check at least one parameter but got "
                        + maxParams);
            }
        }

        /** ε = 1e-4, tolerance 1e-6, floor 1e-5, every parameter. */
        public static Options defaults() {
            return new Options(1e-4, 1e-6, 1e-5, Integer.MAX_VALUE, 0L);
        }

        public Options withMaxParams(int maxParams, long seed) {
            return new Options(epsilon, tolerance, absFloor, maxParams, seed);
        }
    }

    /**
     * The outcome: the worst error and where it was. {@code worstRow}/{@code worstColumn} index the
     * layer's {@code W[row][column]}; for a bias {@code worstColumn} is {@code -1}; without a spec
     * {@code worstLayer} is {@code -1} and {@code worstRow} is the flat index. {@code checked}
     * counts the parameters compared; {@code skipped} those whose perturbation crossed a ReLU kink.
     */
    public record Result(boolean passed, double maxError, int checked, int skipped, int worstParam, int worstLayer,
                         int worstRow, int worstColumn, double analytic, double numeric, double objective) {

        /** One line for a person, for example {@code PASS max error 3.1e-09 at layer 1 W[3][7] ...}. */
        @Override
        public String toString() {
            String where = worstLayer < 0
                    ? "param " + worstParam
                    : worstColumn < 0
                    ? String.format(Locale.ROOT, "layer %d b[%d] (param %d)", worstLayer, worstRow, worstParam)
                    : String.format(Locale.ROOT, "layer %d W[%d][%d] (param %d)", worstLayer, worstRow, worstColumn,
                    worstParam);
            return String.format(Locale.ROOT,
                    "%s: max error %.3e over %d parameters (%d skipped at ReLU kinks), worst at %s: analytic %.12e,"
                            + " numeric %.12e",
                    passed ? "PASS" : "FAIL", maxError, checked, skipped, where, analytic, numeric);
        }
    }

    /**
     * A scalar function of the parameters, for {@link #compare}. {@link #crossedKink()} tells whether
     * the last evaluation moved a non-differentiable point (a ReLU unit changed sides of 0); such
     * parameters are skipped and counted rather than reported as errors.
     */
    public interface Objective {
        double value(double[] theta);

        default boolean crossedKink() {
            return false;
        }
    }

    private GradientCheck() {
    }

    /**
     * Checks {@code network}'s gradient at {@code params} over all rows of {@code data}.
     * {@code params} is unchanged. Parameters whose perturbation flips the sign of a ReLU or leaky
     * ReLU pre-activation are skipped and counted in {@link Result#skipped()}. A network with
     * dropout needs {@link #check(Network, double[], DataBlock, double, Options, long)}.
     */
    public static Result check(Network network, double[] params, DataBlock data, double l2, Options options) {
        if (network.dropout().isActive()) {
            throw new IllegalArgumentException("Network " + network.spec() + " trains with " + network.dropout()
                    + "; check its gradient with a fixed mask: GradientCheck.check(..., options, maskSeed)");
        }
        return check(network, params, data, l2, options, false, 0L);
    }

    /**
     * Checks the gradient of {@code network}'s training pass under fixed dropout masks: those of
     * the key {@code (maskSeed, epoch 0, step 0, partition 0)} for rows {@code 0 .. rows-1} of
     * {@code data} ({@link Workspace#setDropoutKey}), the same for the analytic gradient and every
     * perturbed evaluation. Without dropout this is {@link #check(Network, double[], DataBlock,
     * double, Options)}.
     */
    public static Result check(Network network, double[] params, DataBlock data, double l2, Options options,
                               long maskSeed) {
        return check(network, params, data, l2, options, true, maskSeed);
    }

    private static Result check(Network network, double[] params, DataBlock data, double l2, Options options,
                                boolean training, long maskSeed) {
        NetworkSpec spec = network.spec();
        if (params.length != spec.paramCount()) {
            throw new IllegalArgumentException("Network " + spec + " expects " + spec.paramCount()
                    + " parameters but got " + params.length);
        }
        if (!(l2 >= 0.0)) {
            throw new IllegalArgumentException("L2 strength must be >= 0 but got " + l2);
        }
        Workspace ws = new Workspace(spec, Math.max(1, data.rows())).load(data, 0, data.rows());
        if (training) {
            ws.setDropoutKey(maskSeed, 0, 0, 0);
        }
        GradientAccumulator accumulator = new GradientAccumulator(spec.paramCount()).add(network, params, ws);
        double[] analytic = new double[spec.paramCount()];
        accumulator.mean(network, params, l2, analytic);
        return compare(spec, params, analytic,
                new NetworkObjective(network, ws, l2, accumulator.weightSum(), training), options);
    }

    /**
     * Compares {@code analytic}, the claimed gradient of {@code objective} at {@code params}, with the
     * numerical derivative. {@code spec} (which may be null) only serves to name the worst parameter
     * by layer, row and column. {@code params} is unchanged.
     */
    public static Result compare(NetworkSpec spec, double[] params, double[] analytic, Objective objective,
                                 Options options) {
        if (analytic.length != params.length) {
            throw new IllegalArgumentException("Expected " + params.length + " analytic derivatives but got "
                    + analytic.length);
        }
        double[] theta = params.clone();
        double base = objective.value(theta);
        int[] which = chooseParams(params.length, options);
        double worst = 0.0;
        int worstParam = -1;
        double worstNumeric = Double.NaN;
        int skipped = 0;
        double eps = options.epsilon();
        double[] steps = {2 * eps, eps, -eps, -2 * eps};
        double[] values = new double[4];
        for (int i : which) {
            double saved = theta[i];
            boolean kink = false;
            for (int s = 0; s < 4; s++) {
                theta[i] = saved + steps[s];
                values[s] = objective.value(theta);
                kink |= objective.crossedKink();
            }
            theta[i] = saved;
            if (kink) {
                skipped++;
                continue;
            }
            double numeric = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * eps);
            double a = analytic[i];
            double error = Math.abs(a - numeric) / Math.max(Math.max(Math.abs(a), Math.abs(numeric)), options.absFloor());
            if (Double.isNaN(error)) {
                error = Double.POSITIVE_INFINITY;
            }
            if (worstParam < 0 || error > worst) {
                worst = error;
                worstParam = i;
                worstNumeric = numeric;
            }
        }
        int layer = -1;
        int row = worstParam;
        int column = -1;
        if (spec != null && worstParam >= 0) {
            layer = 0;
            while (layer + 1 < spec.numLayers() && spec.weightOffset(layer + 1) <= worstParam) {
                layer++;
            }
            if (worstParam >= spec.biasOffset(layer)) {
                row = worstParam - spec.biasOffset(layer);
            } else {
                int local = worstParam - spec.weightOffset(layer);
                if (layer == 0 && spec.firstLayerLayout() == WeightLayout.IN_OUT) {
                    // Stored (numIn, numOut): local = column · numOut + row.
                    row = local % spec.layer(0).numOut();
                    column = local / spec.layer(0).numOut();
                } else {
                    row = local / spec.layer(layer).numIn();
                    column = local % spec.layer(layer).numIn();
                }
            }
        }
        return new Result(worst <= options.tolerance(), worst, which.length - skipped, skipped, worstParam, layer,
                row, column, worstParam < 0 ? Double.NaN : analytic[worstParam], worstNumeric, base);
    }

    /**
     * The driver's objective over one loaded batch, with ReLU kink detection; with
     * {@code training}, the training pass's under the workspace's (fixed) dropout key.
     */
    private static final class NetworkObjective implements Objective {
        private final Network network;
        private final Workspace ws;
        private final double l2;
        private final double weightSum;
        private final boolean training;
        private final boolean[][] basePositive;
        private boolean crossed;

        NetworkObjective(Network network, Workspace ws, double l2, double weightSum, boolean training) {
            this.network = network;
            this.ws = ws;
            this.l2 = l2;
            this.weightSum = weightSum;
            this.training = training;
            NetworkSpec spec = network.spec();
            this.basePositive = new boolean[spec.numLayers()][];
        }

        @Override
        public double value(double[] theta) {
            NetworkSpec spec = network.spec();
            double penalty = 0.0;
            if (l2 != 0.0) {
                // λ/2 Σ W², written out here rather than taken from Network.addL2, which is under test.
                double sumSquares = 0.0;
                for (int k = 0; k < spec.numLayers(); k++) {
                    for (int p = spec.weightOffset(k); p < spec.biasOffset(k); p++) {
                        sumSquares += theta[p] * theta[p];
                    }
                }
                penalty = 0.5 * l2 * sumSquares;
            }
            double loss = training ? network.trainingLoss(theta, ws) : network.loss(theta, ws);
            crossed = false;
            int n = ws.rows();
            for (int k = 0; k < spec.numLayers(); k++) {
                Activation f = spec.layer(k).activation();
                if (f != Activation.RELU && f != Activation.LEAKY_RELU) {
                    continue;
                }
                int len = n * spec.layer(k).numOut();
                double[] a = ws.a[k];
                if (basePositive[k] == null) {
                    basePositive[k] = new boolean[len];
                    for (int i = 0; i < len; i++) {
                        basePositive[k][i] = a[i] > 0.0;
                    }
                    continue;
                }
                for (int i = 0; i < len && !crossed; i++) {
                    crossed = (a[i] > 0.0) != basePositive[k][i];
                }
            }
            return (loss + penalty) / weightSum;
        }

        @Override
        public boolean crossedKink() {
            return crossed;
        }
    }

    private static int[] chooseParams(int paramCount, Options options) {
        if (options.maxParams() >= paramCount) {
            int[] all = new int[paramCount];
            for (int i = 0; i < paramCount; i++) {
                all[i] = i;
            }
            return all;
        }
        // A seeded sample without replacement: the first maxParams entries of a shuffle, sorted.
        int[] order = EpochPlan.permutation(options.seed(), 0, 0, paramCount);
        int[] chosen = Arrays.copyOf(order, options.maxParams());
        Arrays.sort(chosen);
        return chosen;
    }
}
