package io.sparkprop.spark.ml;

import io.sparkprop.core.NetworkSpec;

/**
 * The order of an MLP's weights at the MLPC-compatible surface ({@code initialWeights},
 * {@code weights()}), which is MLlib's, and its conversion to and from the core's flat layout.
 *
 * <p>Both layouts put the layers in order and, within layer {@code k} ({@code in → out}), its
 * {@code out·in} weights and then its {@code out} biases, so only the weights' order differs:
 * <ul>
 *   <li>core: {@code W (out, in)} row-major, {@code W[i][j]} at {@code weightOffset(k) + i·in + j};
 *   <li>MLlib: the same {@code W (out, in)} column-major, {@code W[i][j]} at
 *       {@code weightOffset(k) + i + j·out} (Spark's {@code ml.ann.AffineLayerModel} reads its
 *       slice as a Breeze {@code DenseMatrix(numOut, numIn)}, which is column-major).
 * </ul>
 * A network with only one output or one input per layer has both layouts equal.
 */
final class MllibLayout {

    private MllibLayout() {
    }

    /**
     * {@code mllib (paramCount)}, MLlib's order, as a new array in the core's order.
     *
     * @throws IllegalArgumentException if the length is not {@code spec.paramCount()}
     */
    static double[] fromMllib(NetworkSpec spec, double[] mllib) {
        return reorder(spec, mllib, true);
    }

    /**
     * {@code core (paramCount)}, the core's order, as a new array in MLlib's order.
     *
     * @throws IllegalArgumentException if the length is not {@code spec.paramCount()}
     */
    static double[] toMllib(NetworkSpec spec, double[] core) {
        return reorder(spec, core, false);
    }

    /** {@code params} with each layer's {@code W (out, in)} moved between the two orders; biases as they are. */
    private static double[] reorder(NetworkSpec spec, double[] params, boolean toCore) {
        checkLength(spec, params);
        double[] out = params.clone();
        for (int k = 0; k < spec.numLayers(); k++) {
            int in = spec.layer(k).numIn();
            int rows = spec.layer(k).numOut();
            int offset = spec.weightOffset(k);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < in; j++) {
                    int core = offset + i * in + j;   // W[i][j], row-major
                    int mllib = offset + i + j * rows; // W[i][j], column-major
                    if (toCore) {
                        out[core] = params[mllib];
                    } else {
                        out[mllib] = params[core];
                    }
                }
            }
        }
        return out;
    }

    private static void checkLength(NetworkSpec spec, double[] params) {
        if (params.length != spec.paramCount()) {
            throw new IllegalArgumentException(params.length + " weights for " + spec + ", which has "
                    + spec.paramCount() + " parameters");
        }
    }
}
