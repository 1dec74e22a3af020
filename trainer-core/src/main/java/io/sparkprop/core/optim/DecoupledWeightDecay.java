package io.sparkprop.core.optim;

import java.util.Arrays;

/**
 * Decoupled weight decay (Loshchilov and Hutter, "Decoupled Weight Decay Regularization",
 * ICLR 2019) as PyTorch's {@code AdamW} applies it: before the optimizer's own update, every
 * parameter in the decay ranges is shrunk, {@code θ_i <- θ_i · (1 - η · weightDecay)}, with
 * {@code η} the step's learning rate. It is not an L2 term: the gradient is left as given.
 *
 * <p>Package-private: each optimizer holds one and calls {@link #apply} first in its step.
 */
final class DecoupledWeightDecay {

    private final double weightDecay;
    /** Validated, half-open {@code [start0, end0, start1, end1, ...]}; never empty. */
    private final int[] ranges;

    /**
     * @param decayRanges half-open {@code [start0, end0, ...]} as from
     *                    {@code NetworkSpec.weightRanges()}, sorted and non-overlapping; null or
     *                    empty means every parameter decays. Copied.
     */
    DecoupledWeightDecay(double weightDecay, int[] decayRanges, int paramCount) {
        this.weightDecay = OptimizerChecks.checkNonNegativeFinite("weight decay", weightDecay);
        this.ranges = checkRanges(decayRanges, paramCount);
    }

    private static int[] checkRanges(int[] decayRanges, int paramCount) {
        if (decayRanges == null || decayRanges.length == 0) {
            return new int[] {0, paramCount};
        }
        if (decayRanges.length % 2 != 0) {
            throw new IllegalArgumentException("decay ranges must have an even length [start0, end0, ...] but got "
                    + decayRanges.length + ": " + Arrays.toString(decayRanges));
        }
        int previousEnd = 0;
        for (int k = 0; k < decayRanges.length; k += 2) {
            int start = decayRanges[k];
            int end = decayRanges[k + 1];
            if (start < previousEnd) {
                throw new IllegalArgumentException("decay range " + (k / 2) + " must start at >= " + previousEnd
                        + " (sorted, non-overlapping, >= 0) but got " + start + " in " + Arrays.toString(decayRanges));
            }
            if (end < start || end > paramCount) {
                throw new IllegalArgumentException("decay range " + (k / 2) + " must end in [" + start + ", "
                        + paramCount + "] but got " + end + " in " + Arrays.toString(decayRanges));
            }
            previousEnd = end;
        }
        return decayRanges.clone();
    }

    double weightDecay() {
        return weightDecay;
    }

    /**
     * {@code params (paramCount)} is OVERWRITTEN for the parameters both in the decay ranges and
     * in {@code active} (every parameter for a dense step); a no-op when weightDecay is 0.
     */
    void apply(double[] params, double learningRate, ParameterRanges active) {
        if (weightDecay == 0.0) {
            return;
        }
        double factor = 1.0 - learningRate * weightDecay;
        // Both lists are sorted and disjoint: walk them together.
        int k = 0;
        for (int r = 0; r < active.count() && k < ranges.length; ) {
            int from = Math.max(active.start(r), ranges[k]);
            int to = Math.min(active.end(r), ranges[k + 1]);
            for (int i = from; i < to; i++) {
                params[i] *= factor;
            }
            if (active.end(r) < ranges[k + 1]) {
                r++;
            } else {
                k += 2;
            }
        }
    }

    /** For example {@code weightDecay=0.01 on [0, 6) [8, 14)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("weightDecay=").append(weightDecay);
        if (weightDecay != 0.0) {
            sb.append(" on");
            for (int k = 0; k < ranges.length; k += 2) {
                sb.append(" [").append(ranges[k]).append(", ").append(ranges[k + 1]).append(')');
            }
        }
        return sb.toString();
    }
}
