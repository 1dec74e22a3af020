package io.sparkprop.spark.train;

import io.sparkprop.core.Evaluation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.Network;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.DataBlock;
import io.sparkprop.core.Workspace;

/**
 * Sums from which validation metrics follow, mergeable like the gradient accumulator: weighted
 * loss, weighted count of correct predictions (classification), weighted squared and absolute
 * errors over all outputs (regression), total weight and row count.
 */
public final class EvalSums {

    private static final int CHUNK = 512;

    double lossSum;
    double correct;
    double squaredError;
    double absoluteError;
    double weightSum;
    long rows;
    int outputs;

    /** Adds every row of {@code block} under {@code params}. */
    EvalSums add(NetworkSpec spec, double[] params, DataBlock block) {
        Network network = new Network(spec);
        int width = spec.outputSize();
        outputs = width;
        if (block.rows() == 0) {
            return this;
        }
        Workspace ws = ExecutorCache.borrow(spec, Math.min(CHUNK, block.rows()));
        try {
            double[] y = block.targets();
            double[] w = block.weights();
            for (int from = 0; from < block.rows(); from += ws.capacity()) {
                int to = Math.min(block.rows(), from + ws.capacity());
                lossSum += network.loss(params, ws.load(block, from, to));
                double[] out = ws.output();
                for (int i = 0; i < to - from; i++) {
                    int r = from + i;
                    double weight = w == null ? 1.0 : w[r];
                    weightSum += weight;
                    if (Evaluation.isCorrect(spec, out, i * width, y, r * width)) {
                        correct += weight;
                    }
                    if (spec.loss() != Loss.SOFTMAX_CROSS_ENTROPY) {
                        for (int j = 0; j < width; j++) {
                            double diff = out[i * width + j] - y[r * width + j];
                            squaredError += weight * diff * diff;
                            absoluteError += weight * Math.abs(diff);
                        }
                    }
                }
                rows += to - from;
            }
        } finally {
            ExecutorCache.release(ws);
        }
        return this;
    }

    EvalSums merge(EvalSums other) {
        lossSum += other.lossSum;
        correct += other.correct;
        squaredError += other.squaredError;
        absoluteError += other.absoluteError;
        weightSum += other.weightSum;
        rows += other.rows;
        outputs = Math.max(outputs, other.outputs);
        return this;
    }

    /** The weighted mean loss (without L2). */
    public double meanLoss() {
        return lossSum / weightSum;
    }

    /** Weighted accuracy: arg-max for softmax, every output thresholded at 0.5 otherwise. */
    public double accuracy() {
        return correct / weightSum;
    }

    /** Root of the weighted mean squared error per output value. */
    public double rmse() {
        return Math.sqrt(squaredError / (weightSum * outputs));
    }

    /** Weighted mean absolute error per output value. */
    public double mae() {
        return absoluteError / (weightSum * outputs);
    }

    public long rows() {
        return rows;
    }
}
