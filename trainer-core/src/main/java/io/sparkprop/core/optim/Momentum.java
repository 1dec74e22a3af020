package io.sparkprop.core.optim;

/**
 * SGD with momentum: Polyak's heavy ball ("Some methods of speeding up the convergence of
 * iteration methods", 1964) or, with {@code nesterov}, Nesterov's accelerated gradient as
 * Sutskever, Martens, Dahl and Hinton use it ("On the importance of initialization and momentum in
 * deep learning", ICML 2013), in the reformulation of Bengio, Boulanger-Lewandowski and Pascanu
 * ("Advances in optimizing recurrent networks", ICASSP 2013) that needs the gradient at {@code θ}
 * only. Optional decoupled weight decay (Loshchilov and Hutter, ICLR 2019) comes first.
 *
 * <p>One step with learning rate {@code η}, momentum {@code μ}, weight decay {@code λ}, in the form
 * of Goodfellow, Bengio and Courville, "Deep Learning", Algorithm 8.2:
 *
 * <pre>
 *   θ_i <- θ_i · (1 - η λ)     for i in the decay ranges (skipped when λ = 0)
 *   v   <- μ v - η g
 *   θ   <- θ + v               (classical)
 *   θ   <- θ + μ v - η g       (nesterov; v is the new velocity)
 * </pre>
 *
 * <p>The velocity {@code v} already includes {@code η}: when a schedule changes {@code η}, only new
 * gradients feel it, and the accumulated velocity keeps the rates it was built with. (PyTorch's
 * {@code SGD} stores the unscaled buffer instead; the two agree for a constant {@code η}.)
 *
 * <p>State: kind {@value #KIND_CLASSICAL} or {@value #KIND_NESTEROV}, the step count and one slot,
 * {@code v (paramCount)}, zero at construction.
 */
public final class Momentum implements Optimizer {

    /** The {@link OptimizerState#kind()} of classical (heavy-ball) momentum. */
    public static final String KIND_CLASSICAL = "momentum";
    /** The {@link OptimizerState#kind()} of Nesterov momentum. */
    public static final String KIND_NESTEROV = "nesterov";

    private final int paramCount;
    private final double momentum;
    private final boolean nesterov;
    private final DecoupledWeightDecay decay;
    /** The velocity {@code v (paramCount)}, in the parameters' layout; null until first needed. */
    private double[] velocity;
    private long steps;
    /** Every parameter: the dense step is the lazy one over {@code [0, paramCount)}. */
    private final ParameterRanges all;

    /** Momentum without weight decay. */
    public Momentum(int paramCount, double momentum, boolean nesterov) {
        this(paramCount, momentum, nesterov, 0.0, null);
    }

    /**
     * @param momentum    {@code μ} in {@code [0, 1)}, typically 0.9
     * @param nesterov    whether to take the Nesterov step instead of the classical one
     * @param weightDecay decoupled decay rate {@code λ >= 0}; 0 disables it
     * @param decayRanges half-open {@code [start0, end0, ...]} of the parameters that decay, as from
     *                    {@code NetworkSpec.weightRanges()}; null or empty decays every parameter
     */
    public Momentum(int paramCount, double momentum, boolean nesterov, double weightDecay, int[] decayRanges) {
        this.paramCount = OptimizerChecks.checkParamCount(paramCount);
        this.momentum = OptimizerChecks.checkUnitInterval("momentum", momentum);
        this.nesterov = nesterov;
        this.decay = new DecoupledWeightDecay(weightDecay, decayRanges, paramCount);
        this.all = new ParameterRanges().add(0, paramCount);
    }

    /** {@code params (paramCount)} is OVERWRITTEN; {@code grad (paramCount)} is read. */
    @Override
    public void step(double[] params, double[] grad, double learningRate) {
        OptimizerChecks.checkStep(params, grad, paramCount, learningRate);
        step(params, grad, learningRate, all);
    }

    /**
     * The lazy step: {@code params} and the velocity OVERWRITTEN in {@code active} only, so a
     * parameter keeps its velocity, and does not move, on the steps that skip it.
     */
    @Override
    public void step(double[] params, double[] grad, double learningRate, ParameterRanges active) {
        OptimizerChecks.checkStep(params, grad, paramCount, learningRate, active);
        decay.apply(params, learningRate, active);
        double mu = momentum;
        double[] v = velocity();
        int q = 0;
        for (int r = 0; r < active.count(); r++) {
            int start = active.start(r);
            int end = active.end(r);
            int shift = q - start; // grad is packed: grad[i + shift] is parameter i's
            if (nesterov) {
                for (int i = start; i < end; i++) {
                    double descent = learningRate * grad[i + shift];
                    v[i] = mu * v[i] - descent;
                    params[i] = params[i] + mu * v[i] - descent;
                }
            } else {
                for (int i = start; i < end; i++) {
                    v[i] = mu * v[i] - learningRate * grad[i + shift];
                    params[i] += v[i];
                }
            }
            q += end - start;
        }
        steps++;
    }

    @Override
    public OptimizerState state() {
        return new OptimizerState(kind(), steps, new double[][] {velocity().clone()});
    }

    @Override
    public void restore(OptimizerState state) {
        OptimizerChecks.checkRestore(state, kind(), 1, paramCount);
        System.arraycopy(state.slots()[0], 0, velocity(), 0, paramCount);
        steps = state.steps();
    }

    @Override
    public void adopt(OptimizerState state) {
        OptimizerChecks.checkRestore(state, kind(), 1, paramCount);
        velocity = state.slots()[0];
        steps = state.steps();
    }

    @Override
    public double[][] slots() {
        return new double[][] {velocity()};
    }

    /**
     * The velocity, zero when first needed: an optimizer that adopts its state (a resumed run, a
     * lazy round's working set) never holds a second one.
     */
    private double[] velocity() {
        if (velocity == null) {
            velocity = new double[paramCount];
        }
        return velocity;
    }

    @Override
    public long steps() {
        return steps;
    }

    /** {@value #KIND_NESTEROV} or {@value #KIND_CLASSICAL}. */
    @Override
    public String kind() {
        return nesterov ? KIND_NESTEROV : KIND_CLASSICAL;
    }

    public int paramCount() {
        return paramCount;
    }

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return decay.weightDecay();
    }

    /** For example {@code Momentum(paramCount=7, momentum=0.9, nesterov=true, weightDecay=0.0)}. */
    @Override
    public String toString() {
        return "Momentum(paramCount=" + paramCount + ", momentum=" + momentum + ", nesterov=" + nesterov
                + ", " + decay + ")";
    }
}
