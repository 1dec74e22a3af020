package io.sparkprop.core;

/**
 * Metrics of a trained network over one in-memory {@link DataBlock}: {@link EvaluationSums} over
 * the block, in forward passes of up to 256 rows through one workspace. The Spark job computes the
 * same sums per partition and merges them. Also the two prediction rules every metric shares,
 * {@link #argMax} and {@link #isCorrect}.
 */
public final class Evaluation {

    /** Rows per forward pass; the loss sum depends on it (its rounding), so it is fixed. */
    private static final int CHUNK = 256;

    private Evaluation() {
    }

    /**
     * Every metric's sums for the rows of {@code data} under {@code params (paramCount)}, computed
     * with {@code network} (in its precision).
     */
    public static EvaluationSums sums(Network network, double[] params, DataBlock data) {
        NetworkSpec spec = network.spec();
        Workspace ws = new Workspace(spec, Math.min(CHUNK, Math.max(1, data.rows())));
        return new EvaluationSums(spec).add(network, params, data, ws);
    }

    /**
     * The weighted fraction of rows classified correctly ({@link #isCorrect}); NaN for a block of
     * no weight.
     */
    public static double accuracy(Network network, double[] params, DataBlock data) {
        return sums(network, params, data).accuracy();
    }

    /** The weighted mean loss {@code Σ w_i L_i / Σ w_i}, without L2; NaN for a block of no weight. */
    public static double meanLoss(Network network, double[] params, DataBlock data) {
        return sums(network, params, data).meanLoss();
    }

    /** Index of the largest of {@code v[off..off+width)}, the first on ties. */
    public static int argMax(double[] v, int off, int width) {
        int best = 0;
        for (int j = 1; j < width; j++) {
            if (v[off + j] > v[off + best]) {
                best = j;
            }
        }
        return best;
    }

    /**
     * Whether the output row at {@code out[outOff..]} predicts the target row at {@code y[yOff..]}:
     * under softmax cross-entropy the arg-max of output and target agree; otherwise every output
     * thresholded at 0.5 matches its target thresholded at 0.5 (binary and multi-label).
     */
    public static boolean isCorrect(NetworkSpec spec, double[] out, int outOff, double[] y, int yOff) {
        int width = spec.outputSize();
        return spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY
                ? argMax(out, outOff, width) == argMax(y, yOff, width)
                : thresholdMatch(out, outOff, y, yOff, width);
    }

    private static boolean thresholdMatch(double[] out, int outOff, double[] y, int yOff, int width) {
        for (int j = 0; j < width; j++) {
            if ((out[outOff + j] >= 0.5) != (y[yOff + j] >= 0.5)) {
                return false;
            }
        }
        return true;
    }
}
