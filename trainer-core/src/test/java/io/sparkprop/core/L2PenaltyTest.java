package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link Network#l2Penalty}: ½ λ Σ w² over the weights only, by hand, and what {@link Network#addL2} returns. */
class L2PenaltyTest {

    @Test
    void thePenaltyCountsWeightsNotBiasesAndIsAddL2s() {
        // 2 inputs, 1 unit, 1 output: W1 = [1, 2], b1 = [10], W2 = [3], b2 = [20].
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 1, 1}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        double[] params = {1, 2, 10, 3, 20};
        Network network = new Network(spec);
        assertEquals(0.5 * 0.1 * (1 + 4 + 9), network.l2Penalty(params, 0.1), 1e-15);
        assertEquals(network.addL2(params, 0.1, new double[params.length]), network.l2Penalty(params, 0.1));
        assertEquals(0.0, network.l2Penalty(params, 0.0));
    }
}
