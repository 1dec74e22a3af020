package io.sparkprop.core;

/**
 * The float32 wire's conversions ({@code train.exchange-precision = float32}): doubles rounded to
 * the nearest floats, and floats widened back to doubles, which is exact. Shared by every form that
 * ships values as floats (the Spark job's dense wire arrays, {@link IndexedRows#toFloatWire}).
 */
public final class FloatArrays {

    private FloatArrays() {
    }

    /** {@code values} rounded to the nearest floats (a new array). */
    public static float[] rounded(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }

    /** Every array of {@code values} rounded to floats. */
    public static float[][] rounded(double[][] values) {
        float[][] out = new float[values.length][];
        for (int a = 0; a < values.length; a++) {
            out[a] = rounded(values[a]);
        }
        return out;
    }

    /** {@code values} widened to doubles, exactly (a new array). */
    public static double[] widened(float[] values) {
        double[] d = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            d[i] = values[i];
        }
        return d;
    }

    /** Every array of {@code values} widened to doubles. */
    public static double[][] widened(float[][] values) {
        double[][] out = new double[values.length][];
        for (int a = 0; a < values.length; a++) {
            out[a] = widened(values[a]);
        }
        return out;
    }
}
