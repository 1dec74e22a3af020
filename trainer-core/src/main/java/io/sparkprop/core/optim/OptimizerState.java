package io.sparkprop.core.optim;

/**
 * An optimizer's state as flat arrays, for checkpoints: the kind that wrote it, the number of
 * steps taken, and the state slots (for example Adam's first and second moments), each of
 * {@code paramCount} doubles in the parameters' layout.
 */
public record OptimizerState(String kind, long steps, double[][] slots) {

    public OptimizerState {
        if (kind == null || kind.isEmpty()) {
            throw new IllegalArgumentException("Optimizer state needs a kind but got '" + kind + "'");
        }
        if (steps < 0) {
            throw new IllegalArgumentException("Optimizer step count must be >= 0 but got " + steps);
        }
        if (slots == null) {
            throw new IllegalArgumentException("Optimizer state slots must be given but got null");
        }
    }
}
