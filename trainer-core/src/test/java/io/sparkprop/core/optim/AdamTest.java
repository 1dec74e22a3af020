package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Adam's update derived by hand: the first step's sign behaviour and the bias correction. */
class AdamTest {

    /**
     * At {@code t = 1} with zero moments: {@code m = (1-β1) g}, {@code v = (1-β2) g²}, so
     * {@code m̂ = g} and {@code v̂ = g²}, {@code √v̂ = |g|}, and the step is
     * {@code η g / (|g| + ε) = η sign(g) · |g| / (|g| + ε)}: every parameter moves by {@code η}
     * against its gradient's sign, to a relative {@code ε / |g|}, whatever the gradient's scale. A
     * zero gradient gives {@code 0 / (0 + ε) = 0}: no move.
     */
    @Test
    void firstStepMovesEachParameterByLearningRateAgainstTheGradientSign() {
        double eta = 0.01;
        double[] grad = {1e-3, -5.0, 200.0, -0.02, 0.0};
        double[] params = {1.0, 1.0, 1.0, 1.0, 1.0};
        new Adam(grad.length).step(params, grad, eta);
        for (int i = 0; i < grad.length; i++) {
            double expectedMove = -eta * Math.signum(grad[i]);
            // |g| >= 1e-3 and ε = 1e-8, so the move is off by at most η · 1e-5.
            assertEquals(expectedMove, params[i] - 1.0, eta * 1e-5, "parameter " + i);
        }
        assertEquals(1.0, params[4], 0.0, "a zero gradient must not move its parameter");
    }

    /**
     * One scalar, {@code β1 = 0.5}, {@code β2 = 0.75}, {@code η = 0.1}, {@code θ0 = 0}, gradients 2
     * then 4. {@code ε = 1e-300} vanishes next to {@code √v̂ ≈ 1} in double, so these are exact:
     *
     * <pre>
     * t = 1: m = 0.5·0 + 0.5·2 = 1          v = 0.75·0 + 0.25·4 = 1
     *        m̂ = 1 / (1 - 0.5) = 2          v̂ = 1 / (1 - 0.75) = 4        √v̂ = 2
     *        θ1 = 0 - 0.1 · 2 / 2 = -0.1
     * t = 2: m = 0.5·1 + 0.5·4 = 2.5        v = 0.75·1 + 0.25·16 = 4.75
     *        m̂ = 2.5 / (1 - 0.25) = 10/3    v̂ = 4.75 / (1 - 0.5625) = 76/7
     *        θ2 = -0.1 - 0.1 · (10/3) / √(76/7) ≈ -0.201163
     * </pre>
     *
     * Without the correction the second step would be {@code 0.1 · 2.5 / √4.75 ≈ 0.1147} instead
     * of {@code ≈ 0.1012}, and the first {@code 0.1 · 1 / 1 = 0.1} only by luck of these betas.
     */
    @Test
    void biasCorrectionAtStepsOneAndTwoMatchesHandDerivation() {
        Adam adam = new Adam(1, 0.5, 0.75, 1e-300);
        double[] theta = {0.0};

        adam.step(theta, new double[] {2.0}, 0.1);
        assertEquals(-0.1, theta[0], 0.0);
        OptimizerState afterOne = adam.state();
        assertEquals(1, afterOne.steps());
        assertArrayEquals(new double[] {1.0}, afterOne.slots()[0]);
        assertArrayEquals(new double[] {1.0}, afterOne.slots()[1]);

        adam.step(theta, new double[] {4.0}, 0.1);
        OptimizerState afterTwo = adam.state();
        assertEquals(2, afterTwo.steps());
        assertArrayEquals(new double[] {2.5}, afterTwo.slots()[0]);
        assertArrayEquals(new double[] {4.75}, afterTwo.slots()[1]);
        double expected = -0.1 - 0.1 * (10.0 / 3.0) / Math.sqrt(76.0 / 7.0);
        assertEquals(expected, theta[0], 1e-15);
        assertEquals(-0.201163, theta[0], 1e-6);
    }

    /**
     * Past the step where {@code β1^t} falls below half an ulp of 1 ({@code t >= 356} at
     * {@code β1 = 0.9}: {@code 0.9^356 ≈ 5e-17 < 2^-54}), {@code 1 - β1^t} is exactly 1 and the update
     * skips dividing by it; the parameters and moments must keep the bits of the formula written
     * out with its divisions (Kingma & Ba 2015, Algorithm 1), here evaluated step by step in the
     * test, across that step and with values of both signs, zeros and a negative zero.
     */
    @Test
    void stepsPastTheFirstMomentsCorrectionKeepTheFormulasBits() {
        assertEquals(1.0, 1.0 - Math.pow(0.9, 356), 0.0);
        assertEquals(true, 1.0 - Math.pow(0.9, 355) < 1.0);
        int n = 37; // not a multiple of a vector's lanes
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-8;
        Adam adam = new Adam(n, beta1, beta2, eps);
        double[] theta = new double[n];
        double[] expected = new double[n];
        double[] m = new double[n];
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            theta[i] = expected[i] = Math.sin(i + 1.0);
        }
        io.sparkprop.core.SplitMix64 random = new io.sparkprop.core.SplitMix64(11);
        double[] grad = new double[n];
        for (int t = 1; t <= 420; t++) {
            for (int i = 0; i < n; i++) {
                grad[i] = i == 3 ? 0.0 : i == 4 ? -0.0 : random.nextDouble() - 0.5;
            }
            double eta = 1e-3 * (1 + t % 3);
            adam.step(theta, grad, eta);
            double c1 = 1.0 - Math.pow(beta1, t);
            double c2 = 1.0 - Math.pow(beta2, t);
            for (int i = 0; i < n; i++) {
                m[i] = beta1 * m[i] + (1.0 - beta1) * grad[i];
                v[i] = beta2 * v[i] + (1.0 - beta2) * (grad[i] * grad[i]);
                expected[i] -= eta * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(theta[i]),
                        "parameter " + i + " at step " + t);
            }
        }
        assertArrayEquals(m, adam.state().slots()[0]);
        assertArrayEquals(v, adam.state().slots()[1]);
    }

    /** AdamW shrinks only the decay ranges by {@code 1 - η λ} before the Adam step. */
    @Test
    void decoupledDecayShrinksOnlyTheDecayRangesBeforeTheUpdate() {
        double eta = 0.1;
        double lambda = 0.5;
        double[] params = {2.0, 2.0, 2.0};
        double[] zero = {0.0, 0.0, 0.0};
        // A zero gradient makes the Adam part a no-op, leaving the decay: 2 · (1 - 0.05) = 1.9.
        new Adam(3, 0.9, 0.999, 1e-8, lambda, new int[] {0, 1, 2, 3}).step(params, zero, eta);
        assertArrayEquals(new double[] {1.9, 2.0, 1.9}, params);
    }
}
