package io.sparkprop.spark.train;

/**
 * Arrays of doubles as an exchange ships them ({@code train.exchange-precision}): as they are
 * ({@code float64}), or each value rounded to the nearest float ({@code float32}, half the bytes).
 * The receiver reads them back as doubles; widening a float is exact, so a value that crossed in
 * float32 is the same double on every JVM, and sums of such values in a fixed order stay
 * bit-reproducible. The driver's master weights and optimizer state stay in double: only what
 * crosses the network is rounded (as mixed-precision data-parallel training's compressed
 * all-reduce does, e.g. Horovod's {@code Compression.fp16}, here to float32).
 *
 * <p>Used for what the driver broadcasts (weights, and in a local-SGD round the optimizer state)
 * and inside {@link TimedGradient} and {@link RoundResult} for what the tasks send back.
 */
public final class WireArrays implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** The values when shipped in double; null in float32. */
    private final double[][] doubles;
    /** The values rounded to float; null in double. */
    private final float[][] floats;
    /** {@link #shared}'s widened copy, made once per JVM that reads the broadcast. */
    private transient volatile double[][] widened;

    private WireArrays(double[][] doubles, float[][] floats) {
        this.doubles = doubles;
        this.floats = floats;
    }

    /**
     * {@code values} for the wire: kept (not copied) when {@code float32} is false, else rounded
     * to float, each array of {@code values} of any length.
     */
    public static WireArrays of(double[][] values, boolean float32) {
        return float32 ? new WireArrays(null, io.sparkprop.core.FloatArrays.rounded(values)) : new WireArrays(values, null);
    }

    /** Whether the values travel as floats. */
    public boolean float32() {
        return floats != null;
    }

    /** The number of arrays. */
    public int arrays() {
        return doubles != null ? doubles.length : floats.length;
    }

    /**
     * The values as doubles, shared by every caller in this JVM: READ ONLY. In float32 they are
     * widened once, on the first call.
     */
    public double[][] shared() {
        if (doubles != null) {
            return doubles;
        }
        double[][] w = widened;
        if (w == null) {
            synchronized (this) {
                w = widened;
                if (w == null) {
                    w = io.sparkprop.core.FloatArrays.widened(floats);
                    widened = w;
                }
            }
        }
        return w;
    }

    /** Array {@code i} as fresh doubles, the caller's to modify. */
    public double[] copy(int i) {
        return doubles != null ? doubles[i].clone() : io.sparkprop.core.FloatArrays.widened(floats[i]);
    }

    /** Columns {@code [from, to)} of every array of {@code values}: a slice of compact arrays. */
    static float[][] slice(float[][] values, int from, int to) {
        float[][] out = new float[values.length][];
        for (int a = 0; a < values.length; a++) {
            out[a] = java.util.Arrays.copyOfRange(values[a], from, to);
        }
        return out;
    }
}
