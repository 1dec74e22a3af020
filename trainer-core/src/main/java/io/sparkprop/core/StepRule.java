package io.sparkprop.core;

import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.ParameterRanges;

/**
 * The update of one mini-batch step, written once for every trainer: from a batch's accumulated
 * sums to changed parameters. {@link LocalTrainer}, each partition's local-SGD round
 * ({@link LocalRound}) and the distributed trainer's synchronous step (on the sums merged from
 * every partition) all call {@link #apply}; none of them repeats the rule.
 *
 * <p>The maths, for a batch of {@code m = Σ w_i} total sample weight, with weights {@code W}
 * (biases excluded from the penalty), parameters {@code θ (paramCount)}, L2 strength {@code λ} and
 * clip norm {@code c}:
 * <ol>
 *   <li>Mean with L2 ({@link GradientAccumulator#mean}): objective
 *       {@code J = (Σ w_i L_i + λ/2 Σ W²) / m}, i.e. the mean loss plus {@code λ/(2m) Σ W²}, and
 *       gradient {@code g = (Σ w_i ∇L_i + λ W) / m}.</li>
 *   <li>Finiteness check: if {@code J} or {@code ‖g‖₂} is NaN or infinite, stop here with
 *       {@link Outcome#NON_FINITE}; parameters and optimizer are untouched, and the caller decides
 *       (fail, skip, roll back) and words the message from {@link #objective()},
 *       {@link #gradientNorm()} and {@link #nonFiniteQuantity()}.</li>
 *   <li>Clipping by global L2 norm (Pascanu, Mikolov and Bengio, "On the difficulty of training
 *       recurrent neural networks", ICML 2013), when {@code c > 0}: if {@code ‖g‖₂ > c} then
 *       {@code g <- g · c / ‖g‖₂}, over the whole flat array ({@link GradientClipping}).</li>
 *   <li>The optimizer's step at the given rate {@code η}: {@code θ <- step(θ, g, η)}
 *       ({@link Optimizer#step}).</li>
 * </ol>
 * <p>With {@link SparseUpdate#LAZY} every one of these runs over the parameters the batch touches
 * ({@link GradientAccumulator#activeRanges}: everything but the first layer's weights, and the
 * first layer's rows of the features the batch used) and the optimizer takes its lazy step
 * ({@link Optimizer#step(double[], double[], double, ParameterRanges)}) on the mean gradient of
 * those parameters packed in index order. The gradient outside those ranges is exactly 0 except
 * for the L2 term, so: the clipping norm (summed in index order, as
 * {@link GradientClipping#globalNorm} sums) and the clipping are DENSE's bits when {@code λ = 0};
 * plain SGD without L2 or decay gives DENSE's parameters bit for bit; with {@code λ > 0} a row's
 * weights are penalized (in the gradient and in {@code J}) only on the steps that touch the row,
 * and Adam, momentum and decoupled weight decay follow their lazy semantics.
 *
 * <p>A batch of zero total weight (no rows, or every weight 0) has no mean: it is
 * {@link Outcome#NOTHING_TO_LEARN} and changes nothing. The check uses the norm the clipping needs
 * ({@link GradientClipping#stepNorm}: exact when clipping, a faster four-lane sum otherwise), so
 * checking and clipping take one pass over the gradient between them; without clipping or L2 (the
 * defaults) the four-lane sum is taken while the mean is written
 * ({@link GradientAccumulator#meanWithFastNorm}, the same bits), and checking takes no pass of its
 * own.
 *
 * <p>Lifecycle: construct once per training run (or per Spark task) with the network, {@code λ}
 * and {@code c}; it allocates its gradient buffer {@code (paramCount)} then (a lazy rule's packed
 * buffer grows to the largest step's active parameters), and {@link #apply} allocates nothing
 * once it has room. After each {@code apply}, {@link #objective()},
 * {@link #gradientNorm()} and {@link #weightSum()} describe that step until the next one. Not
 * thread-safe: one rule per thread.
 */
public final class StepRule {

    /** What {@link #apply} did with a batch. */
    public enum Outcome {
        /** The optimizer stepped; {@link #objective()} and {@link #weightSum()} describe the batch. */
        APPLIED,
        /** The batch's total weight is not positive: no mean exists, nothing was changed. */
        NOTHING_TO_LEARN,
        /**
         * The objective or the gradient's norm is NaN or infinite; parameters, optimizer and sums
         * are untouched.
         */
        NON_FINITE
    }

    private final Network network;
    private final double l2;
    private final double clipNorm;
    private final SparseUpdate sparseUpdate;
    /** The lazy step's parameters; refilled each step. */
    private final ParameterRanges active = new ParameterRanges();
    /** Every parameter: the dense step's ranges. */
    private final ParameterRanges all;
    /** The network's weight ranges (L2 applies to them), computed once. */
    private final int[] weights;
    /** The four-lane norm's partial sums {@code (4)}, OVERWRITTEN each step the mean computes them. */
    private final double[] lanes;
    /**
     * The batch's mean gradient {@code (paramCount)}, clipped when clipping is on; OVERWRITTEN each
     * step. Empty for {@link SparseUpdate#LAZY}, whose mean is {@link #packed}.
     */
    private final double[] grad;
    /**
     * A lazy step's mean gradient of its active parameters, packed in index order
     * {@code (active.size())}, clipped when clipping is on; grows, OVERWRITTEN each step.
     */
    private double[] packed = new double[0];
    private final int paramCount;
    /** What {@link #gradient()} returns: {@link #grad}, or the last lazy step's sums' array. */
    private double[] lastGradient;
    private double objective = Double.NaN;
    private double gradientNorm = Double.NaN;
    private double weightSum;

    /**
     * A rule for {@code network}'s parameters.
     *
     * @param network  the network whose spec lays out the parameters (its precision does not matter
     *                 here: the rule's arithmetic is all in double)
     * @param l2       L2 strength {@code λ}, finite and {@code >= 0}; 0 for none
     * @param clipNorm maximum global L2 norm {@code c} of the gradient, finite and {@code >= 0}; 0 for no clipping
     * @throws IllegalArgumentException naming the bad value
     */
    public StepRule(Network network, double l2, double clipNorm) {
        this(network, l2, clipNorm, SparseUpdate.DENSE);
    }

    /**
     * A rule for {@code network}'s parameters that updates them as {@code sparseUpdate} says; its
     * {@link #apply} then needs sums with tracked rows ({@link GradientAccumulator#trackRows}) for
     * {@link SparseUpdate#LAZY}.
     *
     * @throws IllegalArgumentException naming the bad value, or for LAZY when the network's first
     *                                  layer is not stored {@link WeightLayout#IN_OUT}
     */
    public StepRule(Network network, double l2, double clipNorm, SparseUpdate sparseUpdate) {
        if (sparseUpdate == null) {
            throw new IllegalArgumentException("The sparse update must be given but got null");
        }
        if (sparseUpdate == SparseUpdate.LAZY && network != null
                && network.spec().firstLayerLayout() != WeightLayout.IN_OUT) {
            throw new IllegalArgumentException("Lazy updates need the first layer stored " + WeightLayout.IN_OUT
                    + " (a feature's weights in one range) but got " + network.spec());
        }
        this.sparseUpdate = sparseUpdate;
        if (network == null) {
            throw new IllegalArgumentException("Network must be given but got null");
        }
        if (!(l2 >= 0.0 && l2 < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("L2 strength must be finite and >= 0 but got " + l2);
        }
        if (!(clipNorm >= 0.0 && clipNorm < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("Clip norm must be finite and >= 0 (0 = off) but got " + clipNorm);
        }
        this.network = network;
        this.l2 = l2;
        this.clipNorm = clipNorm;
        this.paramCount = network.spec().paramCount();
        this.all = new ParameterRanges().add(0, paramCount);
        this.weights = network.spec().weightRanges();
        this.lanes = new double[4];
        this.grad = sparseUpdate == SparseUpdate.LAZY ? new double[0] : new double[paramCount];
    }

    /**
     * Whether {@code sums} hold something to learn from: a positive total weight. The one test of
     * "nothing to learn", shared with callers that must know it before {@link #apply}.
     */
    public static boolean hasWeight(GradientAccumulator sums) {
        return sums.weightSum() > 0.0;
    }

    /**
     * Applies the rule (class comment) to the batch summed in {@code sums}.
     * {@code params (paramCount)} is OVERWRITTEN when the outcome is {@link Outcome#APPLIED} and
     * untouched otherwise, as is {@code optimizer}'s state; {@code sums} is read only.
     *
     * @param learningRate the step size {@code η}, finite and {@code >= 0} (checked by the optimizer)
     * @throws IllegalArgumentException when {@code params} or {@code sums} do not have the network's
     *                                  parameter count
     */
    public Outcome apply(GradientAccumulator sums, double[] params, Optimizer optimizer, double learningRate) {
        if (params.length != paramCount) {
            throw new IllegalArgumentException("Network " + network.spec() + " expects " + paramCount
                    + " parameters but got " + params.length);
        }
        weightSum = sums.weightSum();
        if (!hasWeight(sums)) {
            objective = Double.NaN;
            gradientNorm = Double.NaN;
            return Outcome.NOTHING_TO_LEARN; // every row of this batch has weight 0
        }
        if (sparseUpdate == SparseUpdate.LAZY) {
            return applyLazy(sums, params, optimizer, learningRate);
        }
        lastGradient = grad;
        meanAndNorm(sums, params, grad, all);
        if (!Double.isFinite(objective) || !Double.isFinite(gradientNorm)) {
            return Outcome.NON_FINITE;
        }
        if (clipNorm > 0.0) {
            GradientClipping.clipToNorm(grad, gradientNorm, clipNorm);
        }
        optimizer.step(params, grad, learningRate);
        return Outcome.APPLIED;
    }

    /**
     * {@link #apply} over the touched parameters only (class comment), on the packed mean gradient
     * of the active parameters ({@link GradientAccumulator#mean(Network, double[], double, double[],
     * ParameterRanges)}): a step's arrays are the size of what it touches, the first layer's read
     * from the sums' row-sparse form.
     */
    private Outcome applyLazy(GradientAccumulator sums, double[] params, Optimizer optimizer, double learningRate) {
        sums.activeRanges(active);
        int size = (int) active.size();
        if (packed.length < size) {
            packed = new double[Math.max(size, packed.length + packed.length / 2)];
        }
        double[] grad = packed;
        lastGradient = grad;
        meanAndNorm(sums, params, grad, active);
        if (!Double.isFinite(objective) || !Double.isFinite(gradientNorm)) {
            return Outcome.NON_FINITE;
        }
        if (clipNorm > 0.0) {
            GradientClipping.clipToNorm(grad, size, gradientNorm, clipNorm);
        }
        optimizer.step(params, grad, learningRate, active);
        return Outcome.APPLIED;
    }

    /**
     * Sets {@link #objective} and {@link #gradientNorm} for the mean gradient of {@code ranges},
     * written packed into {@code grad}: without clipping or L2 the norm's four lanes are summed as
     * the mean is written, else {@link GradientClipping#stepNorm} reads it after.
     */
    private void meanAndNorm(GradientAccumulator sums, double[] params, double[] grad, ParameterRanges ranges) {
        if (clipNorm == 0.0 && l2 == 0.0) {
            objective = sums.meanWithFastNorm(weights, params, grad, ranges, lanes);
            gradientNorm = GradientClipping.laneNorm(lanes);
        } else {
            objective = sums.mean(weights, params, l2, grad, ranges);
            gradientNorm = GradientClipping.stepNorm(grad, (int) ranges.size(), clipNorm);
        }
    }

    /**
     * The last step's objective {@code J} (mean loss plus L2 penalty, per unit of sample weight);
     * NaN after {@link Outcome#NOTHING_TO_LEARN}.
     */
    public double objective() {
        return objective;
    }

    /**
     * The last step's gradient norm {@code ‖g‖₂} before clipping (exact when clipping is on, else
     * the four-lane sum, which may differ in the last bits: for messages, not arithmetic); NaN
     * after {@link Outcome#NOTHING_TO_LEARN}.
     */
    public double gradientNorm() {
        return gradientNorm;
    }

    /** The last batch's total sample weight {@code m} (its row count when unweighted). */
    public double weightSum() {
        return weightSum;
    }

    /**
     * After {@link Outcome#NON_FINITE}: {@code "loss"} when the objective is not finite, else
     * {@code "gradient"}, the word the trainers' messages use.
     */
    public String nonFiniteQuantity() {
        return Double.isFinite(objective) ? "gradient" : "loss";
    }

    /** How this rule updates the first layer for sparse input. */
    public SparseUpdate sparseUpdate() {
        return sparseUpdate;
    }

    /**
     * The last step's mean gradient {@code (paramCount)} as handed to the optimizer (clipped when
     * clipping is on); live, read only, OVERWRITTEN by the next {@link #apply}. After a lazy step
     * it is packed: its first {@code active.size()} values are the active parameters' mean gradient
     * in index order ({@link GradientAccumulator#activeRanges}); null before the first step.
     */
    public double[] gradient() {
        return lastGradient;
    }

    public double l2() {
        return l2;
    }

    public double clipNorm() {
        return clipNorm;
    }
}
