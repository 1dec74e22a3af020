package io.sparkprop.core;

/**
 * The element-wise (or, for softmax, row-wise) non-linearity {@code h = f(a)} that follows a dense
 * layer's affine map {@code a = W h_prev + b}.
 *
 * <p>Kernels work in place on row-major blocks of {@code n} rows of {@code width} units. The
 * backward kernel multiplies an upstream gradient by the Jacobian of {@code f}: for element-wise
 * activations that is {@code g <- g ⊙ f'(a)}; for softmax it is the full Jacobian-vector product
 * {@code g_i <- p_i (g_i - Σ_j g_j p_j)}. Derivatives are computed from the activation's output
 * {@code h} where that is exact (sigmoid, tanh, softmax) and from {@code a} otherwise (ReLU family),
 * so the forward pass must keep both.
 *
 * <p>Each constant has a stable {@link #code()} used by the model file format; never reuse a code.
 */
public enum Activation {
    /** {@code f(a) = a}. */
    IDENTITY(0),
    /** {@code f(a) = 1 / (1 + e^-a)}, {@code f' = h (1 - h)}. */
    SIGMOID(1),
    /** {@code f(a) = tanh(a)}, {@code f' = 1 - h²}. */
    TANH(2),
    /** {@code f(a) = max(0, a)}, {@code f' = [a > 0]}. */
    RELU(3),
    /** {@code f(a) = a} for {@code a > 0}, else {@link #LEAKY_SLOPE}{@code · a}. */
    LEAKY_RELU(4),
    /** Row-wise {@code p_j = e^{a_j} / Σ_k e^{a_k}}, computed with the row maximum subtracted. */
    SOFTMAX(5);

    /** The negative-side slope of {@link #LEAKY_RELU} (the common default of Maas et al., 2013). */
    public static final double LEAKY_SLOPE = 0.01;

    private final int code;

    Activation(int code) {
        this.code = code;
    }

    /** The stable identifier written to model files. */
    public int code() {
        return code;
    }

    /** The activation whose {@link #code()} is {@code code}. */
    public static Activation fromCode(int code) {
        for (Activation activation : values()) {
            if (activation.code == code) {
                return activation;
            }
        }
        throw new IllegalArgumentException("Unknown activation code " + code + "; expected one of 0..5");
    }

    /**
     * Parses a user-facing name ({@code relu}, {@code leaky-relu}, {@code leaky_relu}, {@code linear}
     * for identity, case-insensitive).
     */
    public static Activation parse(String name) {
        String key = name.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_');
        if (key.equals("LINEAR")) {
            return IDENTITY;
        }
        for (Activation activation : values()) {
            if (activation.name().equals(key)) {
                return activation;
            }
        }
        throw new IllegalArgumentException("Unknown activation '" + name
                + "'; expected one of identity (or linear), sigmoid, tanh, relu, leaky-relu, softmax");
    }

    /**
     * Computes {@code h = f(a)} for {@code n} rows.
     *
     * <p>{@code a (n, width)} is read; {@code h (n, width)} is OVERWRITTEN. {@code a} and {@code h}
     * may be the same array only for element-wise activations whose backward pass does not need
     * {@code a} (identity, sigmoid, tanh, softmax).
     */
    public void forward(double[] a, double[] h, int n, int width) {
        int len = n * width;
        switch (this) {
            case IDENTITY:
                if (a != h) {
                    System.arraycopy(a, 0, h, 0, len);
                }
                break;
            case SIGMOID:
                for (int i = 0; i < len; i++) {
                    h[i] = sigmoid(a[i]);
                }
                break;
            case TANH:
                for (int i = 0; i < len; i++) {
                    h[i] = Math.tanh(a[i]);
                }
                break;
            case RELU:
                // h = a > 0 ? a : +0.0, without a branch (see positiveMask).
                for (int i = 0; i < len; i++) {
                    long bits = Double.doubleToRawLongBits(a[i]);
                    h[i] = Double.longBitsToDouble(bits & positiveMask(bits));
                }
                break;
            case LEAKY_RELU:
                // h = a > 0 ? a : slope · a, without a branch.
                for (int i = 0; i < len; i++) {
                    double v = a[i];
                    long bits = Double.doubleToRawLongBits(v);
                    long keep = positiveMask(bits);
                    h[i] = Double.longBitsToDouble((bits & keep)
                            | (Double.doubleToRawLongBits(LEAKY_SLOPE * v) & ~keep));
                }
                break;
            case SOFTMAX:
                for (int r = 0; r < n; r++) {
                    softmaxRow(a, h, r * width, width);
                }
                break;
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * Multiplies the upstream gradient {@code g (n, width)} in place by the Jacobian of {@code f}
     * at this layer's pre-activation {@code a (n, width)} and output {@code h (n, width)}: the
     * seeds' {@code g <- g ⊙ f'(a)}. {@code g} is OVERWRITTEN; {@code a} and {@code h} are read.
     */
    public void backward(double[] a, double[] h, double[] g, int n, int width) {
        int len = n * width;
        switch (this) {
            case IDENTITY:
                break;
            case SIGMOID:
                for (int i = 0; i < len; i++) {
                    double p = h[i];
                    g[i] *= p * (1.0 - p);
                }
                break;
            case TANH:
                for (int i = 0; i < len; i++) {
                    double t = h[i];
                    g[i] *= 1.0 - t * t;
                }
                break;
            case RELU:
                // g = a > 0 ? g : +0.0, without a branch.
                for (int i = 0; i < len; i++) {
                    long keep = positiveMask(Double.doubleToRawLongBits(a[i]));
                    g[i] = Double.longBitsToDouble(Double.doubleToRawLongBits(g[i]) & keep);
                }
                break;
            case LEAKY_RELU:
                // g = a > 0 ? g : slope · g, without a branch.
                for (int i = 0; i < len; i++) {
                    double v = g[i];
                    long keep = positiveMask(Double.doubleToRawLongBits(a[i]));
                    g[i] = Double.longBitsToDouble((Double.doubleToRawLongBits(v) & keep)
                            | (Double.doubleToRawLongBits(LEAKY_SLOPE * v) & ~keep));
                }
                break;
            case SOFTMAX:
                // Jacobian-vector product of softmax: dL/da_i = p_i (g_i - Σ_j g_j p_j).
                for (int r = 0; r < n; r++) {
                    int off = r * width;
                    double dot = 0.0;
                    for (int j = 0; j < width; j++) {
                        dot += g[off + j] * h[off + j];
                    }
                    for (int j = 0; j < width; j++) {
                        g[off + j] = h[off + j] * (g[off + j] - dot);
                    }
                }
                break;
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * All ones when the double whose raw bits are {@code bits} is {@code > 0.0}, else 0: positive
     * and finite or {@code +∞}, that is {@code 0 < bits <= 0x7ff0000000000000} as a signed long
     * ({@code +0.0} is 0, negatives have the sign bit set, NaNs lie above {@code +∞}). Computed
     * with two arithmetic shifts instead of a comparison, so the ReLU kernels select with a mask
     * rather than a branch: on a trained network's pre-activations the sign is as good as random
     * and the branch mispredicts about every other unit (ReLU forward and backward over a
     * 64 x 384 step cost about 118 us each with it, 17-23 us without, on the 2-core EPYC of
     * docs/benchmarks.md §11). The result is the comparison's for every input, by the reasoning
     * in the body; {@code ActivationTest} checks the edges and a million random bit patterns.
     */
    static long positiveMask(long bits) {
        // (-bits) >> 63: all ones iff bits > 0 (or bits = Long.MIN_VALUE, -0.0, cleared by the
        // second factor, where bits - TOP wraps to a positive value);
        // (bits - TOP) >> 63: all ones iff bits < 0x7ff0000000000001, that is bits <= +∞'s.
        return (-bits >> 63) & ((bits - 0x7ff0000000000001L) >> 63);
    }

    /** The logistic function, evaluated without overflow for large negative arguments. */
    static double sigmoid(double a) {
        if (a >= 0.0) {
            return 1.0 / (1.0 + Math.exp(-a));
        }
        double e = Math.exp(a);
        return e / (1.0 + e);
    }

    /** One row of softmax: {@code out[off..off+width) = softmax(in[off..off+width))}, max-shifted. */
    static void softmaxRow(double[] in, double[] out, int off, int width) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < width; j++) {
            max = Math.max(max, in[off + j]);
        }
        double sum = 0.0;
        for (int j = 0; j < width; j++) {
            double e = Math.exp(in[off + j] - max);
            out[off + j] = e;
            sum += e;
        }
        double inv = 1.0 / sum;
        for (int j = 0; j < width; j++) {
            out[off + j] *= inv;
        }
    }
}
