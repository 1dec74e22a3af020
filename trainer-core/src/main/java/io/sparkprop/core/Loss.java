package io.sparkprop.core;

import java.util.Locale;

/**
 * The per-example loss {@code L(ŷ, y)} at the network's output. The batch objective is the
 * weighted mean {@code J = Σ_i w_i L_i / Σ_i w_i} (plus L2), so every loss here is defined per
 * example and summed; the driver divides once.
 *
 * <ul>
 *   <li>{@link #MSE}: {@code L = ½ Σ_j (ŷ_j - y_j)²}, which makes the batch mean the seeds'
 *       {@code J = 1/(2N) Σ (y' - y)²}; any output activation.</li>
 *   <li>{@link #BINARY_CROSS_ENTROPY}: {@code L = -Σ_j [y_j log p_j + (1 - y_j) log(1 - p_j)]} over
 *       independent sigmoid outputs (multi-label; the lecture notes' {@code J(Θ)}); requires a
 *       {@link Activation#SIGMOID} output, and is fused with it: computed from the logits as
 *       {@code max(a,0) - a y + log(1 + e^{-|a|})}, with output delta {@code p - y}.</li>
 *   <li>{@link #SOFTMAX_CROSS_ENTROPY}: {@code L = -Σ_j y_j log p_j} over a softmax output
 *       (multi-class, targets one-hot or any distribution); requires a {@link Activation#SOFTMAX}
 *       output and is fused with it: {@code L = (Σ_j y_j) logsumexp(a) - Σ_j y_j a_j}, with output
 *       delta {@code p Σ_j y_j - y} ({@code = p - y} for one-hot targets).</li>
 * </ul>
 *
 * <p>Each constant has a stable {@link #code()} used by the model file format; never reuse a code.
 */
public enum Loss {
    MSE(0),
    BINARY_CROSS_ENTROPY(1),
    SOFTMAX_CROSS_ENTROPY(2);

    private final int code;

    Loss(int code) {
        this.code = code;
    }

    /** The stable identifier written to model files. */
    public int code() {
        return code;
    }

    /** The loss whose {@link #code()} is {@code code}. */
    public static Loss fromCode(int code) {
        for (Loss loss : values()) {
            if (loss.code == code) {
                return loss;
            }
        }
        throw new IllegalArgumentException("Unknown loss code " + code + "; expected one of 0..2");
    }

    /** Parses {@code mse}, {@code binary-cross-entropy} (or {@code bce}), {@code softmax-cross-entropy} (or {@code cross-entropy}). */
    public static Loss parse(String name) {
        String key = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        switch (key) {
            case "mse":
            case "squared-error":
                return MSE;
            case "bce":
            case "binary-cross-entropy":
                return BINARY_CROSS_ENTROPY;
            case "cross-entropy":
            case "softmax-cross-entropy":
                return SOFTMAX_CROSS_ENTROPY;
            default:
                throw new IllegalArgumentException("Unknown loss '" + name
                        + "'; expected one of mse, binary-cross-entropy (bce), softmax-cross-entropy (cross-entropy)");
        }
    }

    /** Whether {@code output} may be the last layer's activation under this loss. */
    public boolean accepts(Activation output) {
        switch (this) {
            case MSE:
                return true;
            case BINARY_CROSS_ENTROPY:
                return output == Activation.SIGMOID;
            case SOFTMAX_CROSS_ENTROPY:
                return output == Activation.SOFTMAX;
            default:
                throw new AssertionError(this);
        }
    }

    /**
     * Computes the loss of {@code n} rows and the gradient with respect to the output layer's
     * pre-activation {@code a}, each row scaled by its sample weight.
     *
     * <p>Shapes: {@code a, h, y, delta (n, width)}, {@code weights (n)} or {@code null} for all ones.
     * {@code a}, {@code h} (the output activation's values), {@code y} are read; {@code delta} is
     * OVERWRITTEN with {@code w_i ∂L_i/∂a_i}. Returns {@code Σ_i w_i L_i}.
     */
    public double forwardBackward(Activation output, double[] a, double[] h, double[] y, double[] weights,
                                  double[] delta, int n, int width) {
        double total = 0.0;
        switch (this) {
            case MSE: {
                for (int r = 0; r < n; r++) {
                    double w = weights == null ? 1.0 : weights[r];
                    int off = r * width;
                    double sum = 0.0;
                    for (int j = off; j < off + width; j++) {
                        double diff = h[j] - y[j];
                        sum += diff * diff;
                        delta[j] = w * diff;
                    }
                    total += w * 0.5 * sum;
                }
                output.backward(a, h, delta, n, width);
                return total;
            }
            case BINARY_CROSS_ENTROPY: {
                for (int r = 0; r < n; r++) {
                    double w = weights == null ? 1.0 : weights[r];
                    int off = r * width;
                    double sum = 0.0;
                    for (int j = off; j < off + width; j++) {
                        double z = a[j];
                        sum += Math.max(z, 0.0) - z * y[j] + Math.log1p(Math.exp(-Math.abs(z)));
                        delta[j] = w * (h[j] - y[j]);
                    }
                    total += w * sum;
                }
                return total;
            }
            case SOFTMAX_CROSS_ENTROPY: {
                for (int r = 0; r < n; r++) {
                    double w = weights == null ? 1.0 : weights[r];
                    int off = r * width;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = off; j < off + width; j++) {
                        max = Math.max(max, a[j]);
                    }
                    double expSum = 0.0;
                    double ySum = 0.0;
                    double yDotA = 0.0;
                    for (int j = off; j < off + width; j++) {
                        expSum += Math.exp(a[j] - max);
                        ySum += y[j];
                        yDotA += y[j] * a[j];
                    }
                    double logSumExp = max + Math.log(expSum);
                    total += w * (ySum * logSumExp - yDotA);
                    for (int j = off; j < off + width; j++) {
                        delta[j] = w * (h[j] * ySum - y[j]);
                    }
                }
                return total;
            }
            default:
                throw new AssertionError(this);
        }
    }
}
