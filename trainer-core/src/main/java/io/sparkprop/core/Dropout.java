package io.sparkprop.core;

import java.util.Arrays;

/**
 * The dropout rates of a network's hidden layers: an immutable, validated value, one rate
 * {@code p_k ∈ [0, 1)} per hidden layer {@code k = 0 .. numLayers-2}. Dropout never applies to the
 * input or to the output layer. A {@link Network} built with rates applies them in its training
 * pass ({@link Network#lossAndGradient}) only; {@link Network#forward}, {@link Network#loss} and
 * so prediction and evaluation never drop.
 *
 * <p><b>The maths</b> (Srivastava, Hinton, Krizhevsky, Sutskever and Salakhutdinov, "Dropout: a
 * simple way to prevent neural networks from overfitting", JMLR 15, 2014), with inverted scaling as
 * in Keras's {@code Dropout} layer and PyTorch's {@code nn.Dropout}: in training, hidden layer
 * {@code k}'s output {@code H_k (n, numOut)} is replaced by
 * <pre>
 *   H̃_k = H_k ⊙ M_k,   M_k[i][j] = 0 with probability p_k, else 1 / (1 - p_k)
 * </pre>
 * and {@code H̃_k} feeds layer {@code k+1} (its product and its weight gradient). Since
 * {@code E[M_k[i][j]] = 1}, {@code E[H̃_k] = H_k}: inference uses {@code H_k} as it is (the paper
 * instead scales the weights by {@code 1 - p} at test time; the two agree in expectation). The
 * backward pass multiplies by the same mask before the activation's derivative:
 * {@code ∂J/∂H_k = ∂J/∂H̃_k ⊙ M_k}, then {@code ∂J/∂A_k = ∂J/∂H_k ⊙ f_k'(A_k)} with the
 * activation's own (undropped) {@code A_k} and {@code H_k}.
 *
 * <p><b>The masks</b> are a pure function of the key {@code (seed, epoch, step, partition)} that the
 * caller sets on the workspace ({@link Workspace#setDropoutKey}) and of each row's index {@code r}
 * in its partition's data block (not its position in the batch), so the same row at the same step
 * gets the same mask in any batch position, on any executor and in any task attempt. For that row,
 * unit {@code j} of hidden layer {@code k} is dropped when
 * <pre>
 *   u &lt; p_k,  u = the (o_k + j)-th double (0-based) of new SplitMix64(
 *                    SplitMix64.derive(seed, STREAM_DROPOUT, epoch, step, partition, r)),
 *   o_k = Σ_{i&lt;k} numOut_i   (the hidden units of the layers below)
 * </pre>
 * ({@link SplitMix64#nextDouble}: 53 random bits, uniform in {@code [0, 1)}), so a unit is dropped
 * with probability {@code p_k} and each layer's draws do not depend on the other layers' rates.
 * A mask is stored as {@code 0} or {@code 1 / (1 - p_k)}, so a kept unit's output is
 * {@code h · (1 / (1 - p_k))}.
 *
 * <p>A rate of 0 skips the layer's mask work entirely: {@link #none()}, or rates that are all 0,
 * give bit for bit the network without dropout, and need no key.
 */
public final class Dropout implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private static final Dropout NONE = new Dropout(new double[0]);

    private final double[] rates;

    private Dropout(double[] rates) {
        for (int k = 0; k < rates.length; k++) {
            double p = rates[k];
            if (!(p >= 0.0 && p < 1.0)) {
                throw new IllegalArgumentException("Dropout rate of hidden layer " + k + " must be in [0, 1) but got "
                        + p);
            }
            rates[k] = p + 0.0; // -0.0 is 0
        }
        this.rates = rates;
    }

    /** No dropout, for a network of any depth. */
    public static Dropout none() {
        return NONE;
    }

    /** The same rate {@code p ∈ [0, 1)} on each of {@code hiddenLayers} hidden layers. */
    public static Dropout uniform(double rate, int hiddenLayers) {
        if (hiddenLayers < 0) {
            throw new IllegalArgumentException("Number of hidden layers must be >= 0 but got " + hiddenLayers);
        }
        double[] rates = new double[hiddenLayers];
        Arrays.fill(rates, rate);
        return new Dropout(rates);
    }

    /** One rate per hidden layer, {@code rates[k] ∈ [0, 1)} for hidden layer {@code k} (copied). */
    public static Dropout of(double... rates) {
        if (rates == null) {
            throw new IllegalArgumentException("Dropout rates must be given but got null");
        }
        return new Dropout(rates.clone());
    }

    /** How many hidden layers this gives rates for; 0 for {@link #none()}, which fits any network. */
    public int hiddenLayers() {
        return rates.length;
    }

    /** Hidden layer {@code k}'s rate. */
    public double rate(int k) {
        if (k < 0 || k >= rates.length) {
            throw new IllegalArgumentException("Hidden layer " + k + " is not in [0, " + rates.length + ")");
        }
        return rates[k];
    }

    /** The rates, one per hidden layer (a copy). */
    public double[] rates() {
        return rates.clone();
    }

    /** Whether any rate is above 0, so that the training pass draws masks and needs a key. */
    public boolean isActive() {
        for (double p : rates) {
            if (p > 0.0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The rate of each of {@code spec}'s layers ({@code numLayers}, the output layer's 0), checking
     * that these rates are for its hidden layers.
     */
    double[] layerRates(NetworkSpec spec) {
        int hidden = spec.numLayers() - 1;
        if (rates.length != 0 && rates.length != hidden) {
            throw new IllegalArgumentException("Dropout gives rates for " + rates.length + " hidden layers but network "
                    + spec + " has " + hidden);
        }
        return Arrays.copyOf(rates, spec.numLayers());
    }

    /**
     * Draws hidden layer {@code k}'s mask for the batch, as the class header says: {@code mask (n, width)}
     * is OVERWRITTEN with 0 or {@code 1 / (1 - rate)}. {@code batchStream} is
     * {@code derive(seed, STREAM_DROPOUT, epoch, step, partition)}; {@code rowIds (n)} the rows'
     * indices in their block; {@code unitOffset} is {@code o_k}.
     */
    static void drawMask(double rate, long batchStream, int[] rowIds, int n, int width, long unitOffset,
                         double[] mask) {
        double scale = 1.0 / (1.0 - rate);
        long scaleBits = Double.doubleToRawLongBits(scale);
        // doubleAt(...) < rate, compared without a branch (it is a coin flip, mispredicted as often
        // as the rate says): (k - dropBelow) >> 63 is all ones exactly when k < dropBelow.
        long dropBelow = dropBelow(rate);
        for (int r = 0; r < n; r++) {
            long rowSeed = SplitMix64.extend(batchStream, rowIds[r]);
            int off = r * width;
            for (int j = 0; j < width; j++) {
                long dropped = (SplitMix64.bitsAt(rowSeed, unitOffset + j) - dropBelow) >> 63;
                mask[off + j] = Double.longBitsToDouble(scaleBits & ~dropped);
            }
        }
    }

    /**
     * The integer threshold of a draw: {@code doubleAt(s, i) < rate} iff
     * {@code bitsAt(s, i) < dropBelow(rate)}. {@code doubleAt} is {@code k · 2^-53} for the integer
     * {@code k = bitsAt} in {@code [0, 2^53)}, and {@code rate · 2^53} is exact (a power of two), so
     * the draw is below the rate iff {@code k < rate · 2^53}, iff {@code k < ⌈rate · 2^53⌉}.
     */
    static long dropBelow(double rate) {
        return (long) Math.ceil(rate * 0x1.0p53);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dropout other && Arrays.equals(rates, other.rates);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(rates);
    }

    /** For example {@code dropout [0.5, 0.25]}, or {@code no dropout}. */
    @Override
    public String toString() {
        return rates.length == 0 ? "no dropout" : "dropout " + Arrays.toString(rates);
    }
}
