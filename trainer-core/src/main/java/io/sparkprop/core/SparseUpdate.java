package io.sparkprop.core;

/**
 * How a step updates the first layer's weights for sparse input ({@code train.sparse-update}).
 *
 * <ul>
 *   <li>{@link #DENSE}: every parameter, every step: the gradient's mean, the L2 term, the norm,
 *       the clipping and the optimizer's step run over the whole flat array, as for dense input.</li>
 *   <li>{@link #LAZY}: only the parameters the step touches: every parameter outside the first
 *       layer's weights, and the first layer's rows (features) that the step's rows use
 *       ({@link GradientAccumulator#activeRanges}); needs the first layer stored
 *       {@link WeightLayout#IN_OUT}, where a feature's weights are one range. The optimizer takes
 *       its lazy step ({@link io.sparkprop.core.optim.Optimizer#step(double[], double[], double,
 *       io.sparkprop.core.optim.ParameterRanges)}: LazyAdam's semantics), and the L2 term, its
 *       penalty in the objective, and decoupled weight decay cover only the touched weights. For
 *       plain SGD without L2 or decay the result is DENSE's, bit for bit (the skipped gradient is 0);
 *       otherwise it differs as {@link StepRule} documents.</li>
 * </ul>
 */
public enum SparseUpdate {
    DENSE,
    LAZY
}
