package io.sparkprop.core;

/**
 * An immutable dense layer description: {@code numIn} inputs, {@code numOut} units and the
 * activation that follows the affine map. A spec owns no parameters; {@link NetworkSpec} places
 * it at an offset in the flat parameter array.
 *
 * <p>Parameter layout within the layer's range: the weight matrix {@code W (numOut, numIn)}
 * row-major ({@code W[o][i]} at {@code o * numIn + i}), then the bias {@code b (numOut)}.
 */
public record LayerSpec(int numIn, int numOut, Activation activation) implements java.io.Serializable {

    public LayerSpec {
        if (numIn <= 0) {
            throw new IllegalArgumentException("Layer input size must be positive but got " + numIn);
        }
        if (numOut <= 0) {
            throw new IllegalArgumentException("Layer output size must be positive but got " + numOut);
        }
        if (activation == null) {
            throw new IllegalArgumentException("Layer activation must be given but got null");
        }
        if ((long) numIn * numOut + numOut > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("Layer " + numIn + "x" + numOut
                    + " has more parameters than a Java array can hold");
        }
    }

    /** Number of weights: {@code numOut * numIn}. */
    public int weightCount() {
        return numOut * numIn;
    }

    /** Number of parameters: weights plus biases. */
    public int paramCount() {
        return numOut * numIn + numOut;
    }
}
