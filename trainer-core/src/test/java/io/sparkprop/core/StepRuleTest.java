package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.GradientClipping;
import io.sparkprop.core.optim.Momentum;
import io.sparkprop.core.optim.Optimizer;
import io.sparkprop.core.optim.Sgd;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The one step rule: mean with L2, finiteness check, clipping by global norm, optimizer step; a
 * batch of no weight changes nothing; a non-finite batch is reported and changes nothing.
 */
class StepRuleTest {

    /*
     * One linear unit ŷ = w·x + b, MSE (per row ½(ŷ - y)²), w = 2, b = 1, two rows of weight 1:
     *   x = 1, y = 2: ŷ = 3, ŷ - y = 1;   x = 2, y = 3: ŷ = 5, ŷ - y = 2
     *   Σ L = ½·1 + ½·4 = 2.5;  Σ ∂L/∂w = 1·1 + 2·2 = 5;  Σ ∂L/∂b = 1 + 2 = 3;  m = 2
     * With λ = 0.5 the penalty is λ/2·w² = 1 (biases are not penalized) and adds λw = 1 to ∂/∂w:
     *   J = (2.5 + 1) / 2 = 1.75;  g = ((5 + 1) / 2, 3 / 2) = (3, 1.5);  ‖g‖ = √11.25
     * SGD at η = 0.1: w = 2 - 0.3 = 1.7, b = 1 - 0.15 = 0.85.
     * Clipped to norm 1 first: g = (3, 1.5) / √11.25, so w = 2 - 0.3/√11.25, b = 1 - 0.15/√11.25.
     */
    private static final NetworkSpec LINEAR = new NetworkSpec(List.of(new LayerSpec(1, 1, Activation.IDENTITY)),
            Loss.MSE);
    private static final Network LINEAR_NET = new Network(LINEAR);
    private static final DataBlock TWO_ROWS = new DataBlock(2, 1, 1, new double[] {1, 2}, new double[] {2, 3}, null);

    @Test
    void aPlainSgdStepMatchesTheHandDerivation() {
        double[] params = {2, 1};
        StepRule rule = new StepRule(LINEAR_NET, 0.5, 0.0);
        assertEquals(StepRule.Outcome.APPLIED, rule.apply(sums(TWO_ROWS, params), params, new Sgd(2), 0.1));
        assertEquals(1.75, rule.objective(), 1e-15);
        assertEquals(2.0, rule.weightSum());
        assertEquals(Math.sqrt(11.25), rule.gradientNorm(), 1e-15);
        assertArrayEquals(new double[] {3, 1.5}, rule.gradient(), 1e-15);
        assertArrayEquals(new double[] {1.7, 0.85}, params, 1e-15);
    }

    @Test
    void theGradientIsClippedBeforeTheOptimizerSteps() {
        double[] params = {2, 1};
        StepRule rule = new StepRule(LINEAR_NET, 0.5, 1.0);
        assertEquals(StepRule.Outcome.APPLIED, rule.apply(sums(TWO_ROWS, params), params, new Sgd(2), 0.1));
        double norm = Math.sqrt(11.25);
        assertEquals(norm, rule.gradientNorm(), 1e-15, "the norm before clipping");
        assertEquals(1.0, GradientClipping.globalNorm(rule.gradient()), 1e-15, "what the optimizer saw");
        assertArrayEquals(new double[] {2 - 0.3 / norm, 1 - 0.15 / norm}, params, 1e-15);

        // A clip norm above the gradient's norm changes nothing.
        double[] unclipped = {2, 1};
        new StepRule(LINEAR_NET, 0.5, 10.0).apply(sums(TWO_ROWS, unclipped), unclipped, new Sgd(2), 0.1);
        assertArrayEquals(new double[] {1.7, 0.85}, unclipped, 1e-15);
    }

    @Test
    void aBatchOfZeroWeightIsNothingToLearnAndChangesNothing() {
        DataBlock weightless = new DataBlock(2, 1, 1, new double[] {1, 2}, new double[] {2, 3}, new double[] {0, 0});
        double[] params = {2, 1};
        Adam adam = new Adam(2);
        StepRule rule = new StepRule(LINEAR_NET, 0.5, 1.0);
        GradientAccumulator zero = sums(weightless, params);
        assertEquals(StepRule.Outcome.NOTHING_TO_LEARN, rule.apply(zero, params, adam, 0.1));
        assertEquals(StepRule.Outcome.NOTHING_TO_LEARN,
                rule.apply(new GradientAccumulator(2), params, adam, 0.1), "no rows at all");
        assertTrue(!StepRule.hasWeight(zero) && StepRule.hasWeight(sums(TWO_ROWS, params)));
        assertArrayEquals(new double[] {2, 1}, params, 0.0);
        assertEquals(0, adam.state().steps());
        assertArrayEquals(new double[2], adam.state().slots()[0], 0.0);
    }

    @Test
    void aNonFiniteGradientOrLossIsReportedAndChangesNothing() {
        double[] params = {2, 1};
        Adam adam = new Adam(2);
        StepRule rule = new StepRule(LINEAR_NET, 0.0, 0.0);
        GradientAccumulator nanGradient = sums(TWO_ROWS, params);
        nanGradient.gradSum()[1] = Double.NaN;
        assertEquals(StepRule.Outcome.NON_FINITE, rule.apply(nanGradient, params, adam, 0.1));
        assertEquals("gradient", rule.nonFiniteQuantity());
        assertEquals(1.25, rule.objective(), 1e-15);
        assertTrue(Double.isNaN(rule.gradientNorm()));

        // x = 1e200 makes ŷ and the loss overflow; the clipping path sees it too.
        DataBlock huge = new DataBlock(1, 1, 1, new double[] {1e200}, new double[] {0}, null);
        StepRule clipping = new StepRule(LINEAR_NET, 0.0, 1.0);
        assertEquals(StepRule.Outcome.NON_FINITE, clipping.apply(sums(huge, params), params, adam, 0.1));
        assertEquals("loss", clipping.nonFiniteQuantity());
        assertEquals(Double.POSITIVE_INFINITY, clipping.objective());

        assertArrayEquals(new double[] {2, 1}, params, 0.0);
        assertEquals(0, adam.state().steps());
    }

    /** The rule is exactly the sequence each trainer wrote out before it existed, bit for bit. */
    @Test
    void equalsTheMeanCheckClipStepSequenceBitForBit() {
        NetworkSpec spec = NetworkSpec.of(new int[] {5, 7, 3}, Activation.TANH, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        Network network = new Network(spec);
        DataBlock data = GradientCheckTest.randomData(spec, 9, true, 4);
        for (double clipNorm : new double[] {0.0, 0.05, 100.0}) {
            double[] params = WeightInit.initialize(spec, 2);
            double[] expected = params.clone();
            Optimizer mine = new Momentum(spec.paramCount(), 0.9, true);
            Optimizer reference = new Momentum(spec.paramCount(), 0.9, true);
            StepRule rule = new StepRule(network, 1e-3, clipNorm);
            for (int step = 0; step < 3; step++) {
                GradientAccumulator acc = sums(network, data, params);
                assertEquals(StepRule.Outcome.APPLIED, rule.apply(acc, params, mine, 0.1 / (step + 1)));

                GradientAccumulator same = sums(network, data, expected);
                double[] grad = new double[spec.paramCount()];
                double objective = same.mean(network, expected, 1e-3, grad);
                double norm = GradientClipping.stepNorm(grad, clipNorm);
                if (clipNorm > 0) {
                    GradientClipping.clipToNorm(grad, norm, clipNorm);
                }
                reference.step(expected, grad, 0.1 / (step + 1));
                assertEquals(objective, rule.objective(), 0.0);
                assertEquals(norm, rule.gradientNorm(), 0.0);
            }
            for (int i = 0; i < params.length; i++) {
                assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(params[i]),
                        "clip " + clipNorm + ", param " + i);
            }
        }
    }

    @Test
    void rejectsBadSettingsAndMismatchedParameters() {
        IllegalArgumentException l2 = assertThrows(IllegalArgumentException.class,
                () -> new StepRule(LINEAR_NET, -0.1, 0));
        assertTrue(l2.getMessage().contains("-0.1"), l2.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StepRule(LINEAR_NET, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> new StepRule(LINEAR_NET, 0, Double.POSITIVE_INFINITY));
        IllegalArgumentException clip = assertThrows(IllegalArgumentException.class,
                () -> new StepRule(LINEAR_NET, 0, -1));
        assertTrue(clip.getMessage().contains("-1"), clip.getMessage());
        IllegalArgumentException params = assertThrows(IllegalArgumentException.class,
                () -> new StepRule(LINEAR_NET, 0, 0).apply(new GradientAccumulator(2), new double[3], new Sgd(3), 0.1));
        assertTrue(params.getMessage().contains("expects 2 parameters but got 3"), params.getMessage());
    }

    private static GradientAccumulator sums(DataBlock data, double[] params) {
        return sums(LINEAR_NET, data, params);
    }

    /** The loss and gradient sums of every row of {@code data}. */
    static GradientAccumulator sums(Network network, DataBlock data, double[] params) {
        return new GradientAccumulator(params.length).add(network, params,
                new Workspace(network.spec(), data.rows()).load(data, 0, data.rows()));
    }
}
