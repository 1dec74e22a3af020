package io.sparkprop.core.optim;

/**
 * Argument checks shared by the optimizers: hyperparameter ranges at construction, array lengths
 * and the learning rate at the entry of every step, and the shape of a state being restored. Not
 * part of the public API; every check throws {@code IllegalArgumentException} naming the expected
 * and the actual value.
 */
final class OptimizerChecks {

    private OptimizerChecks() {
    }

    static int checkParamCount(int paramCount) {
        if (paramCount <= 0) {
            throw new IllegalArgumentException("paramCount must be > 0 but got " + paramCount);
        }
        return paramCount;
    }

    /** {@code value} must lie in {@code [0, 1)}, as momentum and Adam's betas must. */
    static double checkUnitInterval(String key, double value) {
        if (!(value >= 0.0 && value < 1.0)) {
            throw new IllegalArgumentException(key + " must be in [0, 1) but got " + value);
        }
        return value;
    }

    static double checkPositiveFinite(String key, double value) {
        if (!(value > 0.0 && value < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(key + " must be finite and > 0 but got " + value);
        }
        return value;
    }

    static double checkNonNegativeFinite(String key, double value) {
        if (!(value >= 0.0 && value < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(key + " must be finite and >= 0 but got " + value);
        }
        return value;
    }

    /**
     * The cheap checks at the entry of the lazy {@link Optimizer#step}: the ranges within the
     * parameters, a packed gradient of at least their size, the learning rate.
     */
    static void checkStep(double[] params, double[] grad, int paramCount, double learningRate,
                          ParameterRanges active) {
        if (params == null || params.length != paramCount) {
            throw new IllegalArgumentException("params must have length " + paramCount + " but got "
                    + (params == null ? "null" : params.length));
        }
        if (active == null || !active.fitsIn(paramCount)) {
            throw new IllegalArgumentException("The active ranges must lie within the " + paramCount
                    + " parameters but got " + active);
        }
        if (grad == null || grad.length < active.size()) {
            throw new IllegalArgumentException("grad must hold the " + active.size() + " active parameters' values"
                    + " but got " + (grad == null ? "null" : grad.length));
        }
        checkNonNegativeFinite("learning rate", learningRate);
    }

    static void checkStep(double[] params, double[] grad, int paramCount, double learningRate) {
        if (params == null || params.length != paramCount) {
            throw new IllegalArgumentException("params must have length " + paramCount + " but got "
                    + (params == null ? "null" : params.length));
        }
        if (grad == null || grad.length != paramCount) {
            throw new IllegalArgumentException("grad must have length " + paramCount + " but got "
                    + (grad == null ? "null" : grad.length));
        }
        checkNonNegativeFinite("learning rate", learningRate);
    }

    /**
     * Checks that {@code state} was written by an optimizer of kind {@code kind} with
     * {@code slotCount} slots of {@code paramCount} doubles each.
     */
    static void checkRestore(OptimizerState state, String kind, int slotCount, int paramCount) {
        if (state == null) {
            throw new IllegalArgumentException("Cannot restore a " + kind + " optimizer from null state");
        }
        if (!kind.equals(state.kind())) {
            throw new IllegalArgumentException("Expected optimizer state of kind '" + kind + "' but got '"
                    + state.kind() + "'");
        }
        if (state.slots().length != slotCount) {
            throw new IllegalArgumentException("Expected " + slotCount + " state slots for '" + kind
                    + "' but got " + state.slots().length);
        }
        for (int s = 0; s < slotCount; s++) {
            double[] slot = state.slots()[s];
            if (slot == null || slot.length != paramCount) {
                throw new IllegalArgumentException("Expected state slot " + s + " of '" + kind + "' to have length "
                        + paramCount + " but got " + (slot == null ? "null" : slot.length));
            }
        }
    }
}
