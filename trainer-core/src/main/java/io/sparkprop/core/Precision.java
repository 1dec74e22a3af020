package io.sparkprop.core;

/**
 * The arithmetic of a {@link Network}'s matrix products.
 *
 * <ul>
 *   <li>{@link #FLOAT64}: every product in double precision ({@code dgemm}); the reference.
 *   <li>{@link #FLOAT32}: the three matrix products per layer in single precision ({@code sgemm},
 *       about twice as fast with a native BLAS). Their inputs (weights, activations, deltas) are
 *       rounded to float and their results widened back. Everything else stays in double: the
 *       weights the caller keeps (master weights), the optimizer, biases, activations, the loss and
 *       the gradient sums. Deterministic like {@code FLOAT64}: the same inputs give the same bits.
 * </ul>
 */
public enum Precision {
    FLOAT64, FLOAT32;

    /** The precision by its config name, {@code float64} or {@code float32}; throws naming both. */
    public static Precision of(String name) {
        return switch (name) {
            case "float64" -> FLOAT64;
            case "float32" -> FLOAT32;
            default -> throw new IllegalArgumentException("Unknown precision '" + name
                    + "'; expected float64 or float32");
        };
    }
}
