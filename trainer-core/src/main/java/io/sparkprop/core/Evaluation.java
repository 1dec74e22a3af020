package io.sparkprop.core;

/**
 * Metrics of a trained network over a {@link DataBlock}, computed in chunks through a workspace.
 * For now: accuracy and the mean loss; the Spark job builds fuller reports on the same passes.
 */
public final class Evaluation {

    private static final int CHUNK = 256;

    private Evaluation() {
    }

    /**
     * The weighted fraction of rows classified correctly ({@link #isCorrect}).
     */
    public static double accuracy(Network network, double[] params, DataBlock data) {
        NetworkSpec spec = network.spec();
        int width = spec.outputSize();
        Workspace ws = new Workspace(spec, Math.min(CHUNK, Math.max(1, data.rows())));
        double correct = 0.0;
        double total = 0.0;
        double[] targets = data.targets();
        for (int from = 0; from < data.rows(); from += ws.capacity()) {
            int to = Math.min(data.rows(), from + ws.capacity());
            ws.load(data, from, to);
            network.forward(params, ws);
            double[] out = ws.output();
            for (int i = 0; i < to - from; i++) {
                int r = from + i;
                boolean hit = isCorrect(spec, out, i * width, targets, r * width);
                double w = data.weighted() ? data.weights()[r] : 1.0;
                total += w;
                if (hit) {
                    correct += w;
                }
            }
        }
        return correct / total;
    }

    /** The weighted mean loss {@code Σ w_i L_i / Σ w_i}, without L2. */
    public static double meanLoss(Network network, double[] params, DataBlock data) {
        NetworkSpec spec = network.spec();
        Workspace ws = new Workspace(spec, Math.min(CHUNK, Math.max(1, data.rows())));
        double loss = 0.0;
        double total = 0.0;
        for (int from = 0; from < data.rows(); from += ws.capacity()) {
            int to = Math.min(data.rows(), from + ws.capacity());
            loss += network.loss(params, ws.load(data, from, to));
            for (int r = from; r < to; r++) {
                total += data.weighted() ? data.weights()[r] : 1.0;
            }
        }
        return loss / total;
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
