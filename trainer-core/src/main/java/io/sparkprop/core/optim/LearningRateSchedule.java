package io.sparkprop.core.optim;

import java.util.Objects;

/**
 * An immutable learning-rate schedule: the rate {@code η} for the update that follows
 * {@code step} updates already applied ({@code step = 0, 1, 2, ...}). It is a pure function of
 * the step, so a run resumed from a checkpoint at step {@code k} gets the same rates as one that
 * never stopped; it holds no state and is not an optimizer.
 *
 * <p>A base rate {@code η0}, an optional linear warm-up of {@code W} steps and a main schedule on
 * {@code s = step - W}:
 *
 * <pre>
 *   warm-up (step < W):  η0 · (step + 1) / W                  (reaches η0 at step W - 1)
 *   constant:            η0
 *   step decay:          η0 · γ^floor(s / stepSize)
 *   exponential:         η0 · γ^(s / decaySteps)               (real exponent, no staircase)
 *   cosine:              ηmin + ½ (η0 - ηmin) (1 + cos(π · min(s, T) / T))
 * </pre>
 *
 * <p>The cosine schedule (Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm
 * Restarts", ICLR 2017, without restarts) reaches {@code ηmin} at {@code s = T} and stays there.
 * Build with the static factories and {@link #withWarmup}, for example
 * {@code LearningRateSchedule.cosine(0.1, 1000).withWarmup(50)}.
 */
public final class LearningRateSchedule {

    private enum Shape { CONSTANT, STEP, EXPONENTIAL, COSINE }

    private final Shape shape;
    private final double baseRate;
    /** {@code γ} for step and exponential decay, 1 otherwise. */
    private final double gamma;
    /** {@code stepSize}, {@code decaySteps} or {@code T}; 1 for constant. */
    private final long period;
    /** {@code ηmin} for cosine, 0 otherwise. */
    private final double minRate;
    private final long warmupSteps;

    private LearningRateSchedule(Shape shape, double baseRate, double gamma, long period, double minRate,
                                 long warmupSteps) {
        this.shape = shape;
        this.baseRate = baseRate;
        this.gamma = gamma;
        this.period = period;
        this.minRate = minRate;
        this.warmupSteps = warmupSteps;
    }

    /** {@code η0} at every step. */
    public static LearningRateSchedule constant(double baseRate) {
        return new LearningRateSchedule(Shape.CONSTANT, checkBaseRate(baseRate), 1.0, 1, 0.0, 0);
    }

    /**
     * {@code η0 · γ^floor(s / stepSize)}: multiplied by {@code γ} in {@code (0, 1]} every
     * {@code stepSize >= 1} steps.
     */
    public static LearningRateSchedule stepDecay(double baseRate, double gamma, long stepSize) {
        return new LearningRateSchedule(Shape.STEP, checkBaseRate(baseRate), checkGamma(gamma),
                checkPeriod("stepSize", stepSize), 0.0, 0);
    }

    /**
     * {@code η0 · γ^(s / decaySteps)}: multiplied by {@code γ} in {@code (0, 1]} over every
     * {@code decaySteps >= 1} steps, smoothly.
     */
    public static LearningRateSchedule exponential(double baseRate, double gamma, long decaySteps) {
        return new LearningRateSchedule(Shape.EXPONENTIAL, checkBaseRate(baseRate), checkGamma(gamma),
                checkPeriod("decaySteps", decaySteps), 0.0, 0);
    }

    /** Cosine decay from {@code η0} to 0 over {@code decaySteps >= 1} steps after the warm-up. */
    public static LearningRateSchedule cosine(double baseRate, long decaySteps) {
        return cosine(baseRate, decaySteps, 0.0);
    }

    /**
     * Cosine decay from {@code η0} to {@code minRate} in {@code [0, η0]} over
     * {@code decaySteps >= 1} steps after the warm-up.
     */
    public static LearningRateSchedule cosine(double baseRate, long decaySteps, double minRate) {
        checkBaseRate(baseRate);
        if (!(minRate >= 0.0 && minRate <= baseRate)) {
            throw new IllegalArgumentException("minRate must be in [0, " + baseRate + "] (the base rate) but got "
                    + minRate);
        }
        return new LearningRateSchedule(Shape.COSINE, baseRate, 1.0, checkPeriod("decaySteps", decaySteps),
                minRate, 0);
    }

    /**
     * This schedule preceded by a linear warm-up of {@code warmupSteps >= 0} steps from
     * {@code η0 / W} to {@code η0}; the main schedule then starts at {@code s = 0}. Replaces any
     * warm-up this schedule had; 0 removes it.
     */
    public LearningRateSchedule withWarmup(long warmupSteps) {
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0 but got " + warmupSteps);
        }
        return new LearningRateSchedule(shape, baseRate, gamma, period, minRate, warmupSteps);
    }

    /** The learning rate for the update after {@code step >= 0} updates already applied. */
    public double rate(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0 but got " + step);
        }
        if (step < warmupSteps) {
            return baseRate * (step + 1) / warmupSteps;
        }
        long s = step - warmupSteps;
        switch (shape) {
            case STEP:
                return baseRate * Math.pow(gamma, s / period);
            case EXPONENTIAL:
                return baseRate * Math.pow(gamma, (double) s / period);
            case COSINE:
                return minRate
                        + 0.5 * (baseRate - minRate) * (1.0 + Math.cos(Math.PI * Math.min(s, period) / period));
            case CONSTANT:
            default:
                return baseRate;
        }
    }

    /** {@code η0}, the rate at the end of the warm-up and the start of the main schedule. */
    public double baseRate() {
        return baseRate;
    }

    public long warmupSteps() {
        return warmupSteps;
    }

    private static double checkBaseRate(double baseRate) {
        return OptimizerChecks.checkPositiveFinite("base learning rate", baseRate);
    }

    private static double checkGamma(double gamma) {
        if (!(gamma > 0.0 && gamma <= 1.0)) {
            throw new IllegalArgumentException("gamma must be in (0, 1] but got " + gamma);
        }
        return gamma;
    }

    private static long checkPeriod(String key, long steps) {
        if (steps < 1) {
            throw new IllegalArgumentException(key + " must be >= 1 but got " + steps);
        }
        return steps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LearningRateSchedule other && shape == other.shape
                && Double.compare(baseRate, other.baseRate) == 0 && Double.compare(gamma, other.gamma) == 0
                && period == other.period && Double.compare(minRate, other.minRate) == 0
                && warmupSteps == other.warmupSteps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(shape, baseRate, gamma, period, minRate, warmupSteps);
    }

    /** For example {@code cosine(baseRate=0.1, decaySteps=1000, minRate=0.0) after 50 warm-up steps}. */
    @Override
    public String toString() {
        String main;
        switch (shape) {
            case STEP:
                main = "stepDecay(baseRate=" + baseRate + ", gamma=" + gamma + ", stepSize=" + period + ")";
                break;
            case EXPONENTIAL:
                main = "exponential(baseRate=" + baseRate + ", gamma=" + gamma + ", decaySteps=" + period + ")";
                break;
            case COSINE:
                main = "cosine(baseRate=" + baseRate + ", decaySteps=" + period + ", minRate=" + minRate + ")";
                break;
            case CONSTANT:
            default:
                main = "constant(baseRate=" + baseRate + ")";
                break;
        }
        return warmupSteps == 0 ? main : main + " after " + warmupSteps + " warm-up steps";
    }
}
