package io.sparkprop.core.optim;

/**
 * Clipping of the whole gradient by its global L2 norm (Pascanu, Mikolov and Bengio, "On the
 * difficulty of training recurrent neural networks", ICML 2013): if {@code ‖g‖ > maxNorm} then
 * {@code g <- g · maxNorm / ‖g‖}, so the direction is kept and only the length shrinks. The norm is
 * over the flat array, every layer and bias together, not per layer.
 *
 * <p>The sum of squares is accumulated in one {@code double} in index order, so the norm and the
 * clipped gradient are deterministic for a given array. The driver clips the summed, averaged
 * gradient once per step, before {@link Optimizer#step}; executors never clip.
 */
public final class GradientClipping {

    private GradientClipping() {
    }

    /** {@code ‖grad‖₂}; {@code grad} is read. Infinite if the sum of squares overflows, NaN if any entry is. */
    public static double globalNorm(double[] grad) {
        if (grad == null) {
            throw new IllegalArgumentException("grad must be given but got null");
        }
        double sumSquares = 0.0;
        for (int i = 0; i < grad.length; i++) {
            sumSquares += grad[i] * grad[i];
        }
        return Math.sqrt(sumSquares);
    }

    /**
     * Scales {@code grad} in place to norm {@code maxNorm} if its norm is larger, and returns its
     * norm BEFORE clipping (for logging). {@code grad} is OVERWRITTEN when clipped. A non-finite
     * norm leaves {@code grad} untouched and is returned as is, so the caller can stop training on
     * it rather than step with a gradient of zeros and NaNs.
     *
     * @param maxNorm finite and {@code > 0}
     */
    public static double clipByGlobalNorm(double[] grad, double maxNorm) {
        OptimizerChecks.checkPositiveFinite("maxNorm", maxNorm);
        double norm = globalNorm(grad);
        if (norm > maxNorm && norm < Double.POSITIVE_INFINITY) {
            double scale = maxNorm / norm;
            for (int i = 0; i < grad.length; i++) {
                grad[i] *= scale;
            }
        }
        return norm;
    }
}
