package io.sparkprop.spark.ml;

/**
 * What a classifier's outputs mean, stated once for the estimators' {@code transform} and
 * per-row methods and for {@code scripts/sparkprop predict}: the probabilities are the softmax of
 * the logits (the output layer's pre-activation), and the predicted class is the largest logit.
 * Both take the logits, not the network's own softmax output, so that every front door computes
 * the same bits.
 */
public final class Predictions {

    private Predictions() {
    }

    /**
     * The softmax of {@code values}, in place: {@code exp(v_i - max) / Σ_j exp(v_j - max)}, the
     * max subtracted first so that no exponential overflows and the largest is exactly 1 before
     * the division (MLlib's {@code SoftmaxLayerModelWithCrossEntropyLoss} computes it the same way).
     *
     * @return {@code values}, now the probabilities
     */
    public static double[] softmax(double[] values) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.exp(values[i] - max);
            sum += values[i];
        }
        for (int i = 0; i < values.length; i++) {
            values[i] /= sum;
        }
        return values;
    }

    /** The index of the largest of {@code values} (the first on ties): the predicted class from the logits. */
    public static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
