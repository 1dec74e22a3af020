package io.sparkprop.core.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad hyperparameters and step arguments throw messages that name the key and the bad value. */
class OptimizerValidationTest {

    private static void assertRejected(Executable call, String... expectedFragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : expectedFragments) {
            assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
        }
    }

    @Test
    void learningRateMustBeFiniteAndNonNegative() {
        for (Optimizer optimizer : new Optimizer[] {new Sgd(2), new Momentum(2, 0.9, true), new Adam(2)}) {
            double[] params = {1.0, 2.0};
            double[] grad = {0.5, 0.5};
            assertRejected(() -> optimizer.step(params, grad, -0.1),
                    "learning rate must be finite and >= 0 but got -0.1");
            assertRejected(() -> optimizer.step(params, grad, Double.NaN), "learning rate", "NaN");
            assertRejected(() -> optimizer.step(params, grad, Double.POSITIVE_INFINITY), "learning rate", "Infinity");
            assertEquals(1.0, params[0], 0.0, "a rejected step must not touch the parameters");
            assertEquals(0, optimizer.state().steps(), "a rejected step must not count");
        }
    }

    @Test
    void arrayLengthsMustMatchParamCount() {
        Adam adam = new Adam(3);
        assertRejected(() -> adam.step(new double[2], new double[3], 0.1), "params must have length 3 but got 2");
        assertRejected(() -> adam.step(new double[3], new double[4], 0.1), "grad must have length 3 but got 4");
        assertRejected(() -> adam.step(null, new double[3], 0.1), "params", "null");
        assertRejected(() -> new Sgd(0), "paramCount must be > 0 but got 0");
    }

    @Test
    void betasAndMomentumMustBeInUnitInterval() {
        assertRejected(() -> new Adam(2, 1.0, 0.999, 1e-8), "beta1 must be in [0, 1) but got 1.0");
        assertRejected(() -> new Adam(2, 0.9, -0.5, 1e-8), "beta2 must be in [0, 1) but got -0.5");
        assertRejected(() -> new Adam(2, Double.NaN, 0.999, 1e-8), "beta1", "NaN");
        assertRejected(() -> new Adam(2, 0.9, 0.999, 0.0), "epsilon must be finite and > 0 but got 0.0");
        assertRejected(() -> new Momentum(2, 1.0, false), "momentum must be in [0, 1) but got 1.0");
        assertRejected(() -> new Momentum(2, -0.1, true), "momentum must be in [0, 1) but got -0.1");
    }

    @Test
    void weightDecayMustBeFiniteAndNonNegative() {
        assertRejected(() -> new Sgd(4, -0.01, null), "weight decay must be finite and >= 0 but got -0.01");
        assertRejected(() -> new Momentum(4, 0.9, false, Double.NaN, null), "weight decay", "NaN");
        assertRejected(() -> new Adam(4, 0.9, 0.999, 1e-8, Double.POSITIVE_INFINITY, null), "weight decay",
                "Infinity");
    }

    @Test
    void decayRangesMustBeEvenSortedAndInside() {
        assertRejected(() -> new Sgd(10, 0.1, new int[] {0, 4, 6}), "even length", "3");
        assertRejected(() -> new Sgd(10, 0.1, new int[] {0, 11}), "must end in [0, 10] but got 11");
        assertRejected(() -> new Sgd(10, 0.1, new int[] {5, 4}), "must end in [5, 10] but got 4");
        assertRejected(() -> new Sgd(10, 0.1, new int[] {4, 6, 2, 3}), "decay range 1 must start at >= 6",
                "got 2");
        assertRejected(() -> new Sgd(10, 0.1, new int[] {-1, 3}), "must start at >= 0", "got -1");
    }

    @Test
    void emptyOrNullDecayRangesDecayEveryParameter() {
        for (int[] ranges : new int[][] {null, {}}) {
            double[] params = {1.0, 1.0, 1.0};
            new Sgd(3, 0.5, ranges).step(params, new double[3], 1.0);
            assertEquals(0.5, params[0], 0.0);
            assertEquals(0.5, params[2], 0.0);
        }
        double[] params = {1.0, 1.0, 1.0};
        new Sgd(3, 0.5, new int[] {1, 2}).step(params, new double[3], 1.0);
        assertEquals(1.0, params[0], 0.0);
        assertEquals(0.5, params[1], 0.0);
        assertEquals(1.0, params[2], 0.0);
    }

    @Test
    void toStringShowsHyperparameters() {
        String adamw = new Adam(7, 0.9, 0.999, 1e-8, 0.01, new int[] {0, 4}).toString();
        assertTrue(adamw.contains("beta2=0.999") && adamw.contains("weightDecay=0.01 on [0, 4)"), adamw);
        String nesterov = new Momentum(7, 0.9, true).toString();
        assertTrue(nesterov.contains("momentum=0.9") && nesterov.contains("nesterov=true"), nesterov);
    }
}
