package io.sparkprop.core.optim;

/**
 * Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1) with
 * bias correction, and with {@code weightDecay > 0} AdamW (Loshchilov and Hutter, "Decoupled Weight
 * Decay Regularization", ICLR 2019) exactly as PyTorch's {@code AdamW} computes it: the decay is
 * scaled by the step's learning rate and applied before the Adam update.
 *
 * <p>Step {@code t} (1 for the first step) with learning rate {@code η}:
 *
 * <pre>
 *   θ_i <- θ_i · (1 - η λ)     for i in the decay ranges (skipped when λ = 0)
 *   m   <- β1 m + (1 - β1) g
 *   v   <- β2 v + (1 - β2) g²
 *   m̂   =  m / (1 - β1^t)
 *   v̂   =  v / (1 - β2^t)
 *   θ   <- θ - η m̂ / (√v̂ + ε)
 * </pre>
 *
 * <p>{@code ε} is added to {@code √v̂} as in Algorithm 1 (and PyTorch), not inside the root. On the
 * first step {@code m̂ = g} and {@code v̂ = g²}, so every parameter with {@code |g| >> ε} moves by
 * about {@code η} against the sign of its gradient, whatever the gradient's scale.
 *
 * <p>State: kind {@value #KIND}, {@code steps = t} of the last step taken, and two slots
 * {@code m (paramCount)} and {@code v (paramCount)}, zero at construction. Not AMSGrad, not
 * Adamax, no L2-in-the-gradient variant: add L2 to the gradient before calling {@link #step} for
 * that.
 */
public final class Adam implements Optimizer {

    /** The {@link OptimizerState#kind()} this optimizer writes and accepts, with or without decay. */
    public static final String KIND = "adam";
    /** The paper's default {@code β1}. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** The paper's default {@code β2}. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** The paper's default {@code ε}. */
    public static final double DEFAULT_EPSILON = 1e-8;

    private final int paramCount;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final DecoupledWeightDecay decay;
    /** First moment {@code m (paramCount)}; null until first needed (see {@link #moments}). */
    private double[] m;
    /** Second raw moment {@code v (paramCount)}; null until first needed. */
    private double[] v;
    /** Steps taken; the next step is {@code t = steps + 1}. */
    private long steps;
    /** Every parameter: the dense step is the lazy one over {@code [0, paramCount)}. */
    private final ParameterRanges all;
    /** Values a lazy step's kernel works on at a time when its gradient is packed. */
    private static final int CHUNK = 512;
    /** Parameters, m, v and gradient of one chunk {@code (4, CHUNK)}; made by the first lazy step that needs it. */
    private double[][] chunk;

    /** Adam with the paper's defaults and no weight decay. */
    public Adam(int paramCount) {
        this(paramCount, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON, 0.0, null);
    }

    /** Adam without weight decay. */
    public Adam(int paramCount, double beta1, double beta2, double epsilon) {
        this(paramCount, beta1, beta2, epsilon, 0.0, null);
    }

    /**
     * @param beta1       decay of the first moment, in {@code [0, 1)}
     * @param beta2       decay of the second moment, in {@code [0, 1)}
     * @param epsilon     added to {@code √v̂}; finite and {@code > 0}
     * @param weightDecay decoupled decay rate {@code λ >= 0}; 0 is Adam, {@code > 0} is AdamW
     * @param decayRanges half-open {@code [start0, end0, ...]} of the parameters that decay, as from
     *                    {@code NetworkSpec.weightRanges()}; null or empty decays every parameter
     */
    public Adam(int paramCount, double beta1, double beta2, double epsilon, double weightDecay, int[] decayRanges) {
        this.paramCount = OptimizerChecks.checkParamCount(paramCount);
        this.beta1 = OptimizerChecks.checkUnitInterval("beta1", beta1);
        this.beta2 = OptimizerChecks.checkUnitInterval("beta2", beta2);
        this.epsilon = OptimizerChecks.checkPositiveFinite("epsilon", epsilon);
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
     * LazyAdam's step (TensorFlow Addons' {@code LazyAdam}, PyTorch's {@code SparseAdam}): the
     * update above for the parameters in {@code active} only, with the global step
     * {@code t = steps + 1} in the bias corrections. A parameter the step skips keeps its
     * {@code m}, {@code v} and value, so when it is next touched at step {@code t'} its moments
     * decay once ({@code m <- β1 m + (1 - β1) g}), not {@code t' - t} times as dense Adam's would.
     */
    @Override
    public void step(double[] params, double[] grad, double learningRate, ParameterRanges active) {
        OptimizerChecks.checkStep(params, grad, paramCount, learningRate, active);
        decay.apply(params, learningRate, active);
        long t = steps + 1;
        moments();
        double correction1 = 1.0 - Math.pow(beta1, t);
        double correction2 = 1.0 - Math.pow(beta2, t);
        int q = 0;
        for (int r = 0; r < active.count(); r++) {
            int start = active.start(r);
            int end = active.end(r);
            int shift = q - start; // grad is packed: grad[i + shift] is parameter i's
            q += end - start;
            if (shift == 0) {
                update(params, m, v, grad, start, end, learningRate, correction1, correction2);
                continue;
            }
            // The kernel reads every array at one index, the form the JIT vectorizes (its
            // divisions and square roots are most of a lazy step's time when it cannot): copy the
            // range through aligned chunks.
            if (chunk == null) {
                chunk = new double[4][CHUNK];
            }
            double[] cp = chunk[0];
            double[] cm = chunk[1];
            double[] cv = chunk[2];
            double[] cg = chunk[3];
            for (int from = start; from < end; from += CHUNK) {
                int n = Math.min(CHUNK, end - from);
                System.arraycopy(params, from, cp, 0, n);
                System.arraycopy(m, from, cm, 0, n);
                System.arraycopy(v, from, cv, 0, n);
                System.arraycopy(grad, from + shift, cg, 0, n);
                update(cp, cm, cv, cg, 0, n, learningRate, correction1, correction2);
                System.arraycopy(cp, 0, params, from, n);
                System.arraycopy(cm, 0, m, from, n);
                System.arraycopy(cv, 0, v, from, n);
            }
        }
        steps = t;
    }

    /**
     * Adam's update of parameters {@code [from, to)}, every array read and written at the same
     * index: {@code p}, {@code m1}, {@code m2} OVERWRITTEN there, {@code g} read.
     */
    private void update(double[] p, double[] m1, double[] m2, double[] g, int from, int to, double learningRate,
                        double correction1, double correction2) {
        double b1 = beta1;
        double b2 = beta2;
        double eps = epsilon;
        if (correction1 == 1.0) {
            // β1^t has fallen below half an ulp of 1 (t >= 356 at β1 = 0.9): m / 1.0 is m, bit for
            // bit, so the loop drops one of its three divisions (the JIT cannot know the divisor).
            for (int i = from; i < to; i++) {
                double gi = g[i];
                m1[i] = b1 * m1[i] + (1.0 - b1) * gi;
                m2[i] = b2 * m2[i] + (1.0 - b2) * (gi * gi);
                double vHat = m2[i] / correction2;
                p[i] -= learningRate * m1[i] / (Math.sqrt(vHat) + eps);
            }
            return;
        }
        for (int i = from; i < to; i++) {
            double gi = g[i];
            m1[i] = b1 * m1[i] + (1.0 - b1) * gi;
            m2[i] = b2 * m2[i] + (1.0 - b2) * (gi * gi);
            double mHat = m1[i] / correction1;
            double vHat = m2[i] / correction2;
            p[i] -= learningRate * mHat / (Math.sqrt(vHat) + eps);
        }
    }

    @Override
    public OptimizerState state() {
        moments();
        return new OptimizerState(KIND, steps, new double[][] {m.clone(), v.clone()});
    }

    @Override
    public void restore(OptimizerState state) {
        OptimizerChecks.checkRestore(state, KIND, 2, paramCount);
        moments();
        System.arraycopy(state.slots()[0], 0, m, 0, paramCount);
        System.arraycopy(state.slots()[1], 0, v, 0, paramCount);
        steps = state.steps();
    }

    @Override
    public void adopt(OptimizerState state) {
        OptimizerChecks.checkRestore(state, KIND, 2, paramCount);
        m = state.slots()[0];
        v = state.slots()[1];
        steps = state.steps();
    }

    @Override
    public double[][] slots() {
        moments();
        return new double[][] {m, v};
    }

    /**
     * The zero moments of a fresh optimizer, made when first needed: an optimizer that adopts its
     * state (a resumed run, a lazy round's working set) never holds a second pair (2 GB at 2^20 x 64).
     */
    private void moments() {
        if (m == null) {
            m = new double[paramCount];
            v = new double[paramCount];
        }
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

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double epsilon() {
        return epsilon;
    }

    public double weightDecay() {
        return decay.weightDecay();
    }

    /** For example {@code Adam(paramCount=7, beta1=0.9, beta2=0.999, epsilon=1.0E-8, weightDecay=0.0)}. */
    @Override
    public String toString() {
        return "Adam(paramCount=" + paramCount + ", beta1=" + beta1 + ", beta2=" + beta2 + ", epsilon=" + epsilon
                + ", " + decay + ")";
    }
}
