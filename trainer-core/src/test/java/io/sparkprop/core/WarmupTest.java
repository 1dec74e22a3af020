package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The warm-up runs the step it names and leaves training's results alone. */
class WarmupTest {

    @Test
    void aNegativeStepCountIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Warmup.run(-1));
        assertEquals("Expected a number of warm-up steps >= 0 but got -1", e.getMessage());
    }

    /**
     * A training step's bits are the same before and after a warm-up in the same JVM (it shares no
     * state with training; a warm-up of more than one of its epochs, so the permutations change).
     */
    @Test
    void trainingGivesTheSameBitsBeforeAndAfterAWarmup() {
        double[] before = fewSteps();
        assertTrue(Warmup.run(20) > 0);
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(fewSteps()));
    }

    private static double[] fewSteps() {
        NetworkSpec spec = NetworkSpec.of(new int[] {6, 5, 3}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        SplitMix64 random = new SplitMix64(3);
        int rows = 12;
        double[] x = new double[rows * 6];
        double[] y = new double[rows * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble() - 0.5;
        }
        for (int r = 0; r < rows; r++) {
            y[r * 3 + r % 3] = 1.0;
        }
        Network network = new Network(spec);
        double[] params = WeightInit.initialize(spec, 5L);
        LocalRound round = new LocalRound(network, new StepRule(network, 0.0, 0.0),
                LocalRound.Workspaces.fixed(new Workspace(spec, 4)));
        round.run(params, new io.sparkprop.core.optim.Adam(spec.paramCount()),
                java.util.List.of(new DataBlock(rows, 6, 3, x, y, null)),
                java.util.List.of(EpochPlan.permutation(1L, 0, 0, rows)), new LocalRound.Origin(1L, 0, 0), 0, 3, 3,
                (j, applied) -> 0.01, null);
        return params;
    }
}
