package io.sparkprop.core.optim;

/**
 * Plain stochastic gradient descent (Robbins and Monro, "A Stochastic Approximation Method",
 * 1951), optionally with decoupled weight decay (Loshchilov and Hutter, ICLR 2019). One step with
 * learning rate {@code η} and weight decay {@code λ}:
 *
 * <pre>
 *   θ_i <- θ_i · (1 - η λ)     for i in the decay ranges (skipped when λ = 0)
 *   θ   <- θ - η g
 * </pre>
 *
 * <p>It keeps no per-parameter state: its {@link OptimizerState} is kind {@value #KIND}, the step
 * count and no slots. It is not momentum SGD; see {@link Momentum}.
 */
public final class Sgd implements Optimizer {

    /** The {@link OptimizerState#kind()} this optimizer writes and accepts. */
    public static final String KIND = "sgd";

    private final int paramCount;
    private final DecoupledWeightDecay decay;
    private long steps;
    /** Every parameter: the dense step is the lazy one over {@code [0, paramCount)}. */
    private final ParameterRanges all;

    /** SGD without weight decay for {@code paramCount} parameters. */
    public Sgd(int paramCount) {
        this(paramCount, 0.0, null);
    }

    /**
     * @param weightDecay decoupled decay rate {@code λ >= 0}; 0 disables it
     * @param decayRanges half-open {@code [start0, end0, ...]} of the parameters that decay, as from
     *                    {@code NetworkSpec.weightRanges()}; null or empty decays every parameter
     */
    public Sgd(int paramCount, double weightDecay, int[] decayRanges) {
        this.paramCount = OptimizerChecks.checkParamCount(paramCount);
        this.decay = new DecoupledWeightDecay(weightDecay, decayRanges, paramCount);
        this.all = new ParameterRanges().add(0, paramCount);
    }

    /** {@code params (paramCount)} is OVERWRITTEN; {@code grad (paramCount)} is read. */
    @Override
    public void step(double[] params, double[] grad, double learningRate) {
        OptimizerChecks.checkStep(params, grad, paramCount, learningRate);
        step(params, grad, learningRate, all);
    }

    /** The lazy step: {@code params} OVERWRITTEN in {@code active}; {@code grad} packed ({@link Optimizer}). */
    @Override
    public void step(double[] params, double[] grad, double learningRate, ParameterRanges active) {
        OptimizerChecks.checkStep(params, grad, paramCount, learningRate, active);
        decay.apply(params, learningRate, active);
        int q = 0;
        for (int r = 0; r < active.count(); r++) {
            int start = active.start(r);
            int end = active.end(r);
            int shift = q - start; // grad[i + shift] is parameter i's
            for (int i = start; i < end; i++) {
                params[i] -= learningRate * grad[i + shift];
            }
            q += end - start;
        }
        steps++;
    }

    @Override
    public OptimizerState state() {
        return new OptimizerState(KIND, steps, new double[0][]);
    }

    @Override
    public void restore(OptimizerState state) {
        OptimizerChecks.checkRestore(state, KIND, 0, paramCount);
        steps = state.steps();
    }

    @Override
    public void adopt(OptimizerState state) {
        restore(state);
    }

    @Override
    public double[][] slots() {
        return new double[0][];
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public String kind() {
        return KIND;
    }

    public int paramCount() {
        return paramCount;
    }

    public double weightDecay() {
        return decay.weightDecay();
    }

    /** For example {@code Sgd(paramCount=7, weightDecay=0.0)}. */
    @Override
    public String toString() {
        return "Sgd(paramCount=" + paramCount + ", " + decay + ")";
    }
}
