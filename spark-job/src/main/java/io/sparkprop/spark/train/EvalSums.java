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
 *
 * <p>Also, weighted: for softmax outputs the confusion matrix (true class x predicted class); for
 * sigmoid outputs each label's 2x2 confusion (true positives, false positives, false negatives,
 * true negatives at threshold 0.5); for regression each output's sum of targets and of squared
 * targets, from which R² follows.
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
    /** What the output is: {@link #SOFTMAX}, {@link #SIGMOID} or {@link #REGRESSION} (0 before any row). */
    byte kind;
    /** Softmax: [true * K + predicted]; sigmoid: [4 * label + 2 * true + predicted]; regression: empty. */
    double[] confusion = new double[0];
    /** Regression: per output j, Σ w y, Σ w y² and Σ w (ŷ - y)² at [3j], [3j + 1], [3j + 2]. */
    double[] targetSums = new double[0];

    static final byte SOFTMAX = 1;
    static final byte SIGMOID = 2;
    static final byte REGRESSION = 3;

    /** Adds every row of {@code block} under {@code params}. */
    EvalSums add(NetworkSpec spec, double[] params, DataBlock block) {
        Network network = new Network(spec);
        int width = spec.outputSize();
        outputs = width;
        boolean softmax = spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY;
        boolean sigmoid = spec.loss() == Loss.BINARY_CROSS_ENTROPY;
        if (kind == 0) {
            kind = softmax ? SOFTMAX : sigmoid ? SIGMOID : REGRESSION;
            confusion = new double[softmax ? width * width : sigmoid ? 4 * width : 0];
            targetSums = new double[softmax || sigmoid ? 0 : 3 * width];
        }
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
                    if (softmax) {
                        int truth = Evaluation.argMax(y, r * width, width);
                        confusion[truth * width + Evaluation.argMax(out, i * width, width)] += weight;
                    } else {
                        for (int j = 0; j < width; j++) {
                            double target = y[r * width + j];
                            double diff = out[i * width + j] - target;
                            squaredError += weight * diff * diff;
                            absoluteError += weight * Math.abs(diff);
                            if (sigmoid) {
                                int predicted = out[i * width + j] >= 0.5 ? 1 : 0;
                                int actual = target >= 0.5 ? 1 : 0;
                                confusion[4 * j + 2 * actual + predicted] += weight;
                            } else {
                                targetSums[3 * j] += weight * target;
                                targetSums[3 * j + 1] += weight * target * target;
                                targetSums[3 * j + 2] += weight * diff * diff;
                            }
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
        kind = kind != 0 ? kind : other.kind;
        confusion = addInto(confusion, other.confusion);
        targetSums = addInto(targetSums, other.targetSums);
        return this;
    }

    private static double[] addInto(double[] into, double[] from) {
        if (from.length == 0) {
            return into;
        }
        if (into.length == 0) {
            return from.clone();
        }
        for (int i = 0; i < into.length; i++) {
            into[i] += from[i];
        }
        return into;
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

    /**
     * Regression: the coefficient of determination, {@code 1 - SS_res / SS_tot} per output
     * ({@code SS_tot = Σ w (y - ȳ)²} around the weighted mean {@code ȳ}), averaged over the
     * outputs (as scikit-learn's {@code r2_score} does by default). NaN for classification, and
     * when an output's targets are all equal.
     */
    public double r2() {
        if (targetSums.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int j = 0; j < outputs; j++) {
            double ssTot = targetSums[3 * j + 1] - targetSums[3 * j] * targetSums[3 * j] / weightSum;
            sum += 1.0 - targetSums[3 * j + 2] / ssTot;
        }
        return sum / outputs;
    }

    /**
     * Softmax outputs: the weighted confusion matrix {@code [true class][predicted class]}, K x K.
     * Sigmoid outputs: one 2 x 2 matrix per label, flattened as {@code [label][true][predicted]}
     * with 0 = negative and 1 = positive, i.e. {@code {tn, fp, fn, tp}} per label. Empty for
     * regression.
     */
    public double[] confusion() {
        return confusion.clone();
    }

    /**
     * Per class (softmax) or per label (sigmoid): {@code {precision, recall, f1, support}}, with
     * support the weighted count of rows of that class (or positive for that label). A ratio with
     * a zero denominator is 0, as scikit-learn reports it. Empty for regression.
     */
    public double[][] perClass() {
        if (kind == SOFTMAX) {
            double[][] out = new double[outputs][];
            for (int c = 0; c < outputs; c++) {
                double tp = confusion[c * outputs + c];
                double actual = 0;
                double predicted = 0;
                for (int k = 0; k < outputs; k++) {
                    actual += confusion[c * outputs + k];
                    predicted += confusion[k * outputs + c];
                }
                out[c] = scores(tp, predicted, actual);
            }
            return out;
        }
        if (kind == SIGMOID) {
            double[][] out = new double[outputs][];
            for (int j = 0; j < outputs; j++) {
                double fp = confusion[4 * j + 1];
                double fn = confusion[4 * j + 2];
                double tp = confusion[4 * j + 3];
                out[j] = scores(tp, tp + fp, tp + fn);
            }
            return out;
        }
        return new double[0][];
    }

    private static double[] scores(double tp, double predicted, double actual) {
        double precision = predicted > 0 ? tp / predicted : 0.0;
        double recall = actual > 0 ? tp / actual : 0.0;
        double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
        return new double[] {precision, recall, f1, actual};
    }
}
