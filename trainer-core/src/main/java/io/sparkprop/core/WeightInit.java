package io.sparkprop.core;

/**
 * Seeded initial weights. Weights are drawn uniformly, biases start at zero:
 * <ul>
 *   <li>{@link #XAVIER}: Glorot and Bengio (2010), {@code U(±√(6 / (numIn + numOut)))}, the
 *       default for identity, sigmoid, tanh and softmax layers;</li>
 *   <li>{@link #HE}: He et al. (2015), {@code U(±√(6 / numIn))} (variance {@code 2 / numIn}), the
 *       default for ReLU and leaky ReLU layers.</li>
 * </ul>
 * Uniform draws from {@link SplitMix64} keep the weights bit-identical on every JVM: layer
 * {@code k} draws from its own stream {@code derive(seed, STREAM_INIT, k)}, in row-major order.
 */
public enum WeightInit {
    XAVIER,
    HE;

    /** The scheme suited to {@code activation}. */
    public static WeightInit forActivation(Activation activation) {
        return activation == Activation.RELU || activation == Activation.LEAKY_RELU ? HE : XAVIER;
    }

    /**
     * Initial parameters for {@code spec}, each layer with the scheme suited to its activation. The
     * values do not depend on {@link NetworkSpec#firstLayerLayout()}: they are drawn in
     * {@link WeightLayout#OUT_IN} order and then laid out as {@code spec} says.
     */
    public static double[] initialize(NetworkSpec spec, long seed) {
        NetworkSpec canonical = spec.withFirstLayerLayout(WeightLayout.OUT_IN);
        return canonical.relayout(initializeCanonical(canonical, seed), spec);
    }

    private static double[] initializeCanonical(NetworkSpec spec, long seed) {
        double[] params = new double[spec.paramCount()];
        for (int k = 0; k < spec.numLayers(); k++) {
            LayerSpec layer = spec.layer(k);
            forActivation(layer.activation()).fill(layer, params, spec.weightOffset(k),
                    new SplitMix64(SplitMix64.derive(seed, SplitMix64.STREAM_INIT, k)));
        }
        return params;
    }

    /** Writes this scheme's weights for {@code layer} at {@code offset} (biases stay zero). */
    void fill(LayerSpec layer, double[] params, int offset, SplitMix64 random) {
        double limit = this == HE
                ? Math.sqrt(6.0 / layer.numIn())
                : Math.sqrt(6.0 / (layer.numIn() + layer.numOut()));
        for (int i = 0; i < layer.weightCount(); i++) {
            params[offset + i] = (2.0 * random.nextDouble() - 1.0) * limit;
        }
    }
}
