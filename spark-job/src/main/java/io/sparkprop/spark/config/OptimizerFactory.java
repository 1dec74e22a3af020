package io.sparkprop.spark.config;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.Momentum;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.Sgd;
import java.io.Serializable;

/**
 * Makes fresh optimizers of the configured kind and hyperparameters. Serializable (Java
 * serialization, in task closures), so local-SGD tasks build the same optimizer as the driver.
 *
 * @param kind   sgd, momentum, nesterov, adam or adamw
 * @param ranges the weight ranges that decoupled weight decay applies to (biases are spared)
 */
public record OptimizerFactory(String kind, int paramCount, double momentum, double beta1, double beta2,
                               double epsilon, double weightDecay, int[] ranges) implements Serializable {

    /**
     * The same optimizer for another network of the same layers above the first ({@code spec}: a
     * lazy round's compact copy, {@link io.sparkprop.core.WorkingSet}), decay limited to its weights.
     */
    public OptimizerFactory forSpec(io.sparkprop.core.NetworkSpec spec) {
        return new OptimizerFactory(kind, spec.paramCount(), momentum, beta1, beta2, epsilon, weightDecay,
                spec.weightRanges());
    }

    /**
     * How many state arrays the optimizer keeps (Adam 2, momentum 1, SGD 0), asked of one made for
     * a single parameter, so nothing of the model's size is allocated.
     */
    public int slots() {
        return new OptimizerFactory(kind, 1, momentum, beta1, beta2, epsilon, weightDecay, new int[0]).create()
                .slots().length;
    }

    /** A fresh optimizer: zero state, zero steps. */
    public Optimizer create() {
        return switch (kind) {
            case "sgd" -> new Sgd(paramCount, weightDecay, ranges);
            case "momentum" -> new Momentum(paramCount, momentum, false, weightDecay, ranges);
            case "nesterov" -> new Momentum(paramCount, momentum, true, weightDecay, ranges);
            case "adam", "adamw" -> new Adam(paramCount, beta1, beta2, epsilon, weightDecay, ranges);
            default -> throw new IllegalArgumentException("Unknown optimizer '" + kind
                    + "'; expected one of sgd, momentum, nesterov, adam, adamw");
        };
    }
}
