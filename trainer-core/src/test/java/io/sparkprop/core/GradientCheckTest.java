package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The analytic gradient agrees with numerical differentiation for every activation and loss. */
class GradientCheckTest {

    /**
     * Every hidden activation with every loss and each output activation that loss accepts, with
     * and without L2, with and without sample weights.
     */
    static Stream<Arguments> combinations() {
        List<Arguments> cases = new ArrayList<>();
        Activation[] hidden = {Activation.IDENTITY, Activation.SIGMOID, Activation.TANH, Activation.RELU,
            Activation.LEAKY_RELU};
        for (Activation h : hidden) {
            for (Loss loss : Loss.values()) {
                for (Activation out : Activation.values()) {
                    if (!loss.accepts(out)) {
                        continue;
                    }
                    cases.add(Arguments.of(h, out, loss, 0.0, false));
                    cases.add(Arguments.of(h, out, loss, 0.3, false));
                    cases.add(Arguments.of(h, out, loss, 0.3, true));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} hidden, {1} output, {2}, l2={3}, weighted={4}")
    @MethodSource("combinations")
    void analyticGradientMatchesNumericalDifferentiation(Activation hidden, Activation output, Loss loss, double l2,
                                                         boolean weighted) {
        NetworkSpec spec = NetworkSpec.of(new int[] {4, 6, 5, 3}, hidden, output, loss);
        long seed = 31L * hidden.ordinal() + 7L * output.ordinal() + loss.ordinal();
        double[] params = WeightInit.initialize(spec, seed);
        // Non-zero biases, so that bias gradients and offsets are exercised.
        SplitMix64 random = new SplitMix64(seed + 1);
        for (int k = 0; k < spec.numLayers(); k++) {
            for (int j = 0; j < spec.layer(k).numOut(); j++) {
                params[spec.biasOffset(k) + j] = 0.2 * (random.nextDouble() - 0.5);
            }
        }
        DataBlock data = randomData(spec, 7, weighted, seed + 2);

        GradientCheck.Result result = GradientCheck.check(new Network(spec), params, data, l2,
                GradientCheck.Options.defaults());

        assertTrue(result.passed(), result::toString);
        assertTrue(result.maxError() < 1e-6, result::toString);
        assertEquals(spec.paramCount(), result.checked() + result.skipped());
        // One ReLU unit within 2ε of 0 in one row skips every parameter upstream of it (16 of 83 in the
        // leaky-ReLU/softmax case); still demand that three quarters are compared.
        assertTrue(result.skipped() <= spec.paramCount() / 4, () -> "too many kinks to be a useful check: " + result);
    }

    @Test
    void aWrongGradientIsReportedWithItsLocation() {
        // f(θ) = Σ_i (i+1) θ_i², so ∂f/∂θ_i = 2 (i+1) θ_i; the claimed gradient is wrong at index 13
        // only. In a 2-3-2 network layer 1 starts at 2·3 + 3 = 9, so index 13 is layer 1's local
        // weight 4 = W[1][1] (rows of 3 inputs).
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 3, 2}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        double[] params = new double[spec.paramCount()];
        double[] analytic = new double[params.length];
        for (int i = 0; i < params.length; i++) {
            params[i] = 0.1 * (i - 8.5); // never 0, so no gradient is exactly 0
            analytic[i] = 2 * (i + 1) * params[i];
        }
        analytic[13] += 1e-3;
        GradientCheck.Objective quadratic = theta -> {
            double sum = 0;
            for (int i = 0; i < theta.length; i++) {
                sum += (i + 1) * theta[i] * theta[i];
            }
            return sum;
        };
        GradientCheck.Result result = GradientCheck.compare(spec, params, analytic, quadratic,
                GradientCheck.Options.defaults());
        assertFalse(result.passed(), result::toString);
        assertEquals(13, result.worstParam());
        assertEquals(1, result.worstLayer());
        assertEquals(1, result.worstRow());
        assertEquals(1, result.worstColumn());
        assertEquals(2 * 14 * params[13], result.numeric(), 1e-9);
        assertEquals(analytic[13], result.analytic());
        assertTrue(result.toString().startsWith("FAIL") && result.toString().contains("layer 1 W[1][1]"),
                result::toString);

        analytic[13] -= 1e-3;
        GradientCheck.Result fixed = GradientCheck.compare(spec, params, analytic, quadratic,
                GradientCheck.Options.defaults());
        assertTrue(fixed.passed(), fixed::toString);
    }

    @Test
    void parametersThatMoveAReluUnitAcrossZeroAreSkippedNotFailed() {
        // W1 = 1, b1 = -1 and x = 1 put the hidden ReLU unit exactly at its kink (pre-activation 0),
        // where the analytic derivative uses f'(0) = 0 and a central difference would see 1/2.
        // Perturbing W1 or b1 flips the unit's side, so both are skipped; W2 and b2 are checked.
        NetworkSpec spec = NetworkSpec.of(new int[] {1, 1, 1}, Activation.RELU, Activation.IDENTITY, Loss.MSE);
        double[] params = {1.0, -1.0, 1.0, 0.0};
        DataBlock data = WorkedExamplesTest.block(new double[] {1.0}, new double[] {3.0}, 1, 1);
        GradientCheck.Result result = GradientCheck.check(new Network(spec), params, data, 0.0,
                GradientCheck.Options.defaults());
        assertEquals(2, result.skipped(), result::toString);
        assertEquals(2, result.checked(), result::toString);
        assertTrue(result.passed(), result::toString);
    }

    @Test
    void samplingChecksTheRequestedNumberOfParameters() {
        NetworkSpec spec = NetworkSpec.of(new int[] {20, 16, 4}, Activation.TANH, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] params = WeightInit.initialize(spec, 5);
        DataBlock data = randomData(spec, 5, false, 9);
        GradientCheck.Result result = GradientCheck.check(new Network(spec), params, data, 0.1,
                GradientCheck.Options.defaults().withMaxParams(50, 3));
        assertEquals(50, result.checked());
        assertTrue(result.passed(), result::toString);
    }

    /** Random features in [-1, 1); targets suited to the loss; optional weights in [0.25, 2.25). */
    static DataBlock randomData(NetworkSpec spec, int rows, boolean weighted, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        int in = spec.inputSize();
        int out = spec.outputSize();
        double[] x = new double[rows * in];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2 * random.nextDouble() - 1;
        }
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            switch (spec.loss()) {
                case MSE:
                    for (int j = 0; j < out; j++) {
                        y[r * out + j] = random.nextDouble();
                    }
                    break;
                case BINARY_CROSS_ENTROPY:
                    for (int j = 0; j < out; j++) {
                        y[r * out + j] = random.nextInt(2);
                    }
                    break;
                case SOFTMAX_CROSS_ENTROPY:
                    y[r * out + random.nextInt(out)] = 1.0;
                    break;
                default:
                    throw new AssertionError(spec.loss());
            }
        }
        double[] w = null;
        if (weighted) {
            w = new double[rows];
            for (int r = 0; r < rows; r++) {
                w[r] = 0.25 + 2 * random.nextDouble();
            }
        }
        return new DataBlock(rows, in, out, x, y, w);
    }
}
