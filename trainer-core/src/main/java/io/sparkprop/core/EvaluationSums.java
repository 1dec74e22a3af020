package io.sparkprop.core;

import java.util.Arrays;

/**
 * Sums from which every evaluation metric of a network follows, mergeable like the
 * {@link GradientAccumulator}: a partition {@link #add}s its blocks, the driver {@link #merge}s
 * the partitions' sums (in partition order, for bit-identical results) and reads the metrics. The
 * single-process {@link Evaluation} is the same sums over one block.
 *
 * <p>Every sum is weighted by the rows' sample weights {@code w_i} (1 when unweighted):
 * <ul>
 *   <li>loss {@code Σ w_i L_i} (the spec's loss, without L2) and total weight {@code Σ w_i};</li>
 *   <li>correct predictions {@code Σ w_i [correct_i]} ({@link Evaluation#isCorrect}: arg-max for
 *       softmax outputs, every output thresholded at 0.5 otherwise);</li>
 *   <li>for sigmoid and linear outputs, squared and absolute errors {@code Σ w_i Σ_j (ŷ_ij - y_ij)²}
 *       and {@code Σ w_i Σ_j |ŷ_ij - y_ij|} over all {@code K} outputs;</li>
 *   <li>for softmax outputs the confusion matrix {@code (K, K)}, {@code [true class][predicted]};
 *       for sigmoid outputs each label's 2×2 confusion at threshold 0.5; for linear outputs each
 *       output's {@code Σ w y}, {@code Σ w y²} and {@code Σ w (ŷ - y)²}, from which R² follows.</li>
 * </ul>
 *
 * <p>Lifecycle: {@code new EvaluationSums(spec)} (all zero) -> {@link #add} and {@link #merge},
 * which mutate and return {@code this} -> the metrics, which read. Floating-point sums depend on
 * their order: the loss is summed per forward pass of up to {@code ws.capacity()} rows, so the
 * same data, workspace capacity and merge order give the same bits. Not thread-safe.
 */
public final class EvaluationSums implements java.io.Serializable {

    /** Java serialization too: Spark's default serializer ships it when a session does not use Kryo. */
    private static final long serialVersionUID = 1L;


    private static final byte SOFTMAX = 1;
    private static final byte SIGMOID = 2;
    private static final byte REGRESSION = 3;

    private double lossSum;
    private double correct;
    private double squaredError;
    private double absoluteError;
    private double weightSum;
    private long rows;
    /** The output width {@code K}. */
    private int outputs;
    /** What the output is: {@link #SOFTMAX}, {@link #SIGMOID} or {@link #REGRESSION}. */
    private byte kind;
    /**
     * Softmax: {@code [true * K + predicted]} (K·K); sigmoid: {@code [4 * label + 2 * true + predicted]}
     * (4·K); regression: empty.
     */
    private double[] confusion;
    /**
     * Regression: per output j, {@code Σ w y}, {@code Σ w y²} and {@code Σ w (ŷ - y)²} at [3j],
     * [3j + 1], [3j + 2] (3·K); empty otherwise.
     */
    private double[] targetSums;

    /** Empty sums for networks of {@code spec}'s output layer and loss. */
    public EvaluationSums(NetworkSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("Network spec must be given but got null");
        }
        int width = spec.outputSize();
        this.outputs = width;
        this.kind = kindOf(spec);
        this.confusion = new double[kind == SOFTMAX ? width * width : kind == SIGMOID ? 4 * width : 0];
        this.targetSums = new double[kind == REGRESSION ? 3 * width : 0];
    }

    /**
     * Adds every row of {@code block} under {@code params (paramCount)}, in forward passes of up to
     * {@code ws.capacity()} rows, in stored order. {@code ws}'s buffers are OVERWRITTEN (it is not
     * touched for an empty block). Returns {@code this}.
     *
     * @param network computes the outputs, in its precision; its spec must have this one's output
     *                layer and loss
     * @throws IllegalArgumentException when the network's output or loss differs from this one's
     */
    public EvaluationSums add(Network network, double[] params, DataBlock block, Workspace ws) {
        NetworkSpec spec = network.spec();
        if (spec.outputSize() != outputs || kindOf(spec) != kind) {
            throw new IllegalArgumentException("These sums are for " + outputs + " " + kindName(kind)
                    + " outputs but the network " + spec + " has " + spec.outputSize() + " " + kindName(kindOf(spec)));
        }
        if (block.rows() == 0) {
            return this;
        }
        int width = outputs;
        boolean softmax = kind == SOFTMAX;
        boolean sigmoid = kind == SIGMOID;
        double[] y = block.targets();
        double[] w = block.weights();
        for (int from = 0; from < block.rows(); from += ws.capacity()) {
            int to = Math.min(block.rows(), from + ws.capacity());
            lossSum += network.loss(params, ws.load(block, from, to));
            // out (to - from, K), y (rows, K): row i of the pass is row from + i of the block.
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
        return this;
    }

    /**
     * Adds {@code other}'s sums into this one; {@code other} is unchanged. Returns {@code this}.
     *
     * @throws IllegalArgumentException when {@code other} is for another output width or kind
     */
    public EvaluationSums merge(EvaluationSums other) {
        if (other.outputs != outputs || other.kind != kind) {
            throw new IllegalArgumentException("Cannot merge sums of " + other.outputs + " " + kindName(other.kind)
                    + " outputs into sums of " + outputs + " " + kindName(kind) + " outputs");
        }
        lossSum += other.lossSum;
        correct += other.correct;
        squaredError += other.squaredError;
        absoluteError += other.absoluteError;
        weightSum += other.weightSum;
        rows += other.rows;
        addInto(confusion, other.confusion);
        addInto(targetSums, other.targetSums);
        return this;
    }

    private static void addInto(double[] into, double[] from) {
        for (int i = 0; i < into.length; i++) {
            into[i] += from[i];
        }
    }

    private static byte kindOf(NetworkSpec spec) {
        return spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY ? SOFTMAX
                : spec.loss() == Loss.BINARY_CROSS_ENTROPY ? SIGMOID : REGRESSION;
    }

    private static String kindName(byte kind) {
        return kind == SOFTMAX ? "softmax" : kind == SIGMOID ? "sigmoid" : "regression";
    }

    /** The weighted mean loss {@code Σ w_i L_i / Σ w_i}, without L2; NaN with no weight. */
    public double meanLoss() {
        return lossSum / weightSum;
    }

    /** The weighted fraction of rows predicted correctly (class comment); NaN with no weight. */
    public double accuracy() {
        return correct / weightSum;
    }

    /** Root of the weighted mean squared error per output value, {@code √(Σ w Σ_j (ŷ - y)² / (K Σ w))}. */
    public double rmse() {
        return Math.sqrt(squaredError / (weightSum * outputs));
    }

    /** Weighted mean absolute error per output value, {@code Σ w Σ_j |ŷ - y| / (K Σ w)}. */
    public double mae() {
        return absoluteError / (weightSum * outputs);
    }

    /** Rows added. */
    public long rows() {
        return rows;
    }

    /** Total sample weight of the rows added (their count when unweighted). */
    public double weightSum() {
        return weightSum;
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
     * regression. A copy.
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

    @Override
    public String toString() {
        return "EvaluationSums(" + kindName(kind) + " x" + outputs + ", rows " + rows + ", weight " + weightSum
                + ", loss " + lossSum + ", correct " + correct + ", confusion " + Arrays.toString(confusion) + ")";
    }
}
