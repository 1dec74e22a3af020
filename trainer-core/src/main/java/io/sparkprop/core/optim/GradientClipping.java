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
        return globalNorm(grad, grad.length);
    }

    /** {@link #globalNorm(double[])} of {@code grad[0 .. length)} (a lazy step's packed gradient). */
    public static double globalNorm(double[] grad, int length) {
        double sumSquares = 0.0;
        for (int i = 0; i < length; i++) {
            sumSquares += grad[i] * grad[i];
        }
        return Math.sqrt(sumSquares);
    }

    /**
     * The global L2 norm summed in four interleaved lanes: about twice as fast as
     * {@link #globalNorm}, but rounded differently, so it is for telling a finite gradient from a
     * non-finite one (and for messages), never for scaling. Non-finite exactly when an element is
     * NaN or infinite or the squares overflow.
     */
    public static double fastNorm(double[] grad) {
        return fastNorm(grad, grad.length);
    }

    /** {@link #fastNorm(double[])} of {@code grad[0 .. length)}. */
    public static double fastNorm(double[] grad, int length) {
        double s0 = 0.0;
        double s1 = 0.0;
        double s2 = 0.0;
        double s3 = 0.0;
        int i = 0;
        for (; i + 3 < length; i += 4) {
            s0 += grad[i] * grad[i];
            s1 += grad[i + 1] * grad[i + 1];
            s2 += grad[i + 2] * grad[i + 2];
            s3 += grad[i + 3] * grad[i + 3];
        }
        for (; i < length; i++) {
            s0 += grad[i] * grad[i];
        }
        return Math.sqrt((s0 + s1) + (s2 + s3));
    }

    /**
     * {@link #fastNorm}'s result from its four partial sums {@code lanes (4)}, each summed as it
     * sums them (element {@code i} below the last multiple of 4 in lane {@code i & 3}, the rest in
     * lane 0, each lane in increasing {@code i}): for a caller that sums them in a loop of its own.
     */
    public static double laneNorm(double[] lanes) {
        return Math.sqrt((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
    }

    /**
     * The norm to check a step's gradient with: {@link #globalNorm} when it will be clipped (the
     * exact value, reused by {@link #clipToNorm}), else {@link #fastNorm}.
     */
    public static double stepNorm(double[] grad, double clipNorm) {
        return clipNorm > 0.0 ? globalNorm(grad) : fastNorm(grad);
    }

    /** {@link #stepNorm(double[], double)} of {@code grad[0 .. length)} (a lazy step's packed gradient). */
    public static double stepNorm(double[] grad, int length, double clipNorm) {
        return clipNorm > 0.0 ? globalNorm(grad, length) : fastNorm(grad, length);
    }

    /**
     * {@link #clipByGlobalNorm} with the norm already computed by {@link #globalNorm}: the same
     * result without a second pass.
     */
    public static void clipToNorm(double[] grad, double norm, double maxNorm) {
        clipToNorm(grad, grad.length, norm, maxNorm);
    }

    /** {@link #clipToNorm(double[], double, double)} of {@code grad[0 .. length)}. */
    public static void clipToNorm(double[] grad, int length, double norm, double maxNorm) {
        OptimizerChecks.checkPositiveFinite("maxNorm", maxNorm);
        if (norm > maxNorm && norm < Double.POSITIVE_INFINITY) {
            double scale = maxNorm / norm;
            for (int i = 0; i < length; i++) {
                grad[i] *= scale;
            }
        }
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
