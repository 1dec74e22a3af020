package io.sparkprop.core;

/**
 * How the first layer's weight matrix {@code W (numOut, numIn)} is stored in the flat parameter
 * array ({@link NetworkSpec#firstLayerLayout()}); every other layer is always {@link #OUT_IN}.
 *
 * <ul>
 *   <li>{@link #OUT_IN}: row-major {@code W (numOut, numIn)}, {@code W[o][i]} at
 *       {@code weightOffset + o·numIn + i}: a unit's weights are contiguous. The default, and the
 *       only layout of model files, checkpoints and exports.</li>
 *   <li>{@link #IN_OUT}: row-major {@code Wᵀ (numIn, numOut)}, {@code W[o][i]} at
 *       {@code weightOffset + i·numOut + o}: an input feature's {@code numOut} weights are
 *       contiguous, as the rows of an embedding table are (PyTorch's {@code EmbeddingBag},
 *       TensorFlow's embedding lookup). With sparse input a step touches only its features' rows,
 *       so their gradients, optimizer updates and exchange are row-sparse. It is also MLlib's
 *       column-major layout of the same matrix.</li>
 * </ul>
 * The layouts hold the same values in another order: converting ({@link NetworkSpec#relayout}) is
 * exact, and a sparse input's first layer computes the same bits in both.
 */
public enum WeightLayout {
    OUT_IN,
    IN_OUT
}
