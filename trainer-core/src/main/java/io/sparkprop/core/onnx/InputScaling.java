package io.sparkprop.core.onnx;

import java.util.Arrays;

/**
 * The feature scaling in front of a network, {@code x' = (x - shift) / scale} per feature: the
 * arithmetic and the order of sparkprop's readers and standardization, so that a graph built with
 * it takes the raw features the model's training data had. A {@code null} {@code shift} means no
 * shift (a divisor), a {@code null} {@code scale} no division; {@link #NONE} has neither.
 *
 * <p>It is a value for the exporter, not the standardization itself: the Spark job fits that and
 * stores it in the model file, and turns the file's arrays and metadata into this.
 */
public record InputScaling(double[] shift, double[] scale) {

    /** Features are used as they are. */
    public static final InputScaling NONE = new InputScaling(null, null);

    /**
     * @throws IllegalArgumentException if {@code shift} and {@code scale} (where given) differ in
     *                                  length, or hold a non-finite value or a zero scale
     */
    public InputScaling {
        if (shift != null && scale != null && shift.length != scale.length) {
            throw new IllegalArgumentException("Scaling shift and scale must have one value per feature but got "
                    + shift.length + " and " + scale.length);
        }
        if (shift != null) {
            shift = shift.clone();
            for (int j = 0; j < shift.length; j++) {
                if (!Double.isFinite(shift[j])) {
                    throw new IllegalArgumentException("Scaling shift of feature " + j + " must be finite but got "
                            + shift[j]);
                }
            }
        }
        if (scale != null) {
            scale = scale.clone();
            for (int j = 0; j < scale.length; j++) {
                if (!Double.isFinite(scale[j]) || scale[j] == 0.0) {
                    throw new IllegalArgumentException("Scaling scale of feature " + j
                            + " must be finite and non-zero but got " + scale[j]);
                }
            }
        }
    }

    /** Every one of {@code numFeatures} features divided by {@code divisor} (sparkprop's {@code divide}). */
    public static InputScaling divide(double divisor, int numFeatures) {
        double[] scale = new double[numFeatures];
        Arrays.fill(scale, divisor);
        return new InputScaling(null, scale);
    }

    /** Whether this changes any feature. */
    public boolean isIdentity() {
        return shift == null && scale == null;
    }

    /** A fresh copy of the shift, or {@code null}. */
    @Override
    public double[] shift() {
        return shift == null ? null : shift.clone();
    }

    /** A fresh copy of the scale, or {@code null}. */
    @Override
    public double[] scale() {
        return scale == null ? null : scale.clone();
    }

    /** The number of features this scales, or -1 for {@link #NONE}. */
    int numFeatures() {
        return shift != null ? shift.length : scale != null ? scale.length : -1;
    }
}
