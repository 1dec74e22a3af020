package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad arguments fail at the boundary with IllegalArgumentException naming expected and actual values. */
class ValidationTest {

    private static void assertMessage(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), () -> "'" + e.getMessage() + "' should contain '" + fragment + "'");
        }
    }

    @Test
    void emptyTopologyIsRejected() {
        assertMessage(() -> new NetworkSpec(List.of(), Loss.MSE), "at least one layer", "0");
        assertMessage(() -> NetworkSpec.of(new int[] {4}, List.of(), Loss.MSE), "[4]");
    }

    @Test
    void mismatchedLayerSizesAreRejected() {
        List<LayerSpec> layers = List.of(new LayerSpec(4, 8, Activation.RELU), new LayerSpec(7, 2, Activation.IDENTITY));
        assertMessage(() -> new NetworkSpec(layers, Loss.MSE), "expects 7 inputs", "has 8 outputs");
        assertMessage(() -> NetworkSpec.of(new int[] {4, 8, 2}, List.of(Activation.RELU), Loss.MSE),
                "Expected 2 activations", "got 1");
        assertMessage(() -> new LayerSpec(0, 3, Activation.RELU), "positive", "got 0");
        assertMessage(() -> new LayerSpec(3, -2, Activation.RELU), "positive", "got -2");
    }

    @Test
    void unknownActivationAndLossNamesAreRejectedWithTheValidChoices() {
        assertMessage(() -> Activation.parse("swish"), "'swish'", "relu", "leaky-relu", "tanh");
        assertMessage(() -> Loss.parse("hinge"), "'hinge'", "mse", "cross-entropy");
        assertMessage(() -> Activation.fromCode(42), "42");
        assertEquals(Activation.LEAKY_RELU, Activation.parse("Leaky-ReLU"));
        assertEquals(Activation.IDENTITY, Activation.parse("linear"));
        assertEquals(Loss.SOFTMAX_CROSS_ENTROPY, Loss.parse("cross-entropy"));
    }

    @Test
    void lossesRejectOutputActivationsTheyCannotUse() {
        assertMessage(() -> NetworkSpec.of(new int[] {3, 2}, Activation.RELU, Activation.IDENTITY,
                Loss.SOFTMAX_CROSS_ENTROPY), "SOFTMAX", "IDENTITY");
        assertMessage(() -> NetworkSpec.of(new int[] {3, 2}, Activation.RELU, Activation.TANH,
                Loss.BINARY_CROSS_ENTROPY), "SIGMOID", "TANH");
        assertMessage(() -> NetworkSpec.of(new int[] {3, 4, 2}, Activation.SOFTMAX, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY), "output layer", "layer 0");
    }

    @Test
    void mismatchedParameterAndDataSizesAreRejected() {
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 4, 2}, Activation.RELU, Activation.IDENTITY, Loss.MSE);
        Network network = new Network(spec);
        Workspace ws = new Workspace(spec, 2);
        assertMessage(() -> network.forward(new double[10], ws), "expects 26 parameters", "got 10");
        DataBlock wrongWidth = new DataBlock(1, 5, 2, new double[5], new double[2], null);
        assertMessage(() -> ws.load(wrongWidth, 0, 1), "expects 3 features", "has 5");
        DataBlock tooMany = new DataBlock(3, 3, 2, new double[9], new double[6], null);
        assertMessage(() -> ws.load(tooMany, 0, 3), "3 rows", "capacity 2");
        assertMessage(() -> new DataBlock(2, 3, 1, new double[5], new double[2], null), "Expected 6 features", "got 5");
        GradientAccumulator small = new GradientAccumulator(5);
        assertMessage(() -> new GradientAccumulator(26).merge(small), "5", "26");
    }

    @Test
    void nonFiniteDataAndNegativeWeightsNameTheRow() {
        double[] x = {0, 1, 2, 3, Double.NaN, 5};
        assertMessage(() -> new DataBlock(3, 2, 1, x, new double[3], null), "Row 2", "feature 0", "NaN");
        double[] y = {0, Double.POSITIVE_INFINITY};
        assertMessage(() -> new DataBlock(2, 1, 1, new double[2], y, null), "Row 1", "target 0", "Infinity");
        assertMessage(() -> new DataBlock(2, 1, 1, new double[2], new double[2], new double[] {1, -0.5}), "Row 1",
                "weight", "-0.5");
    }

    @Test
    void averagingAnEmptyOrZeroWeightBatchIsAnError() {
        NetworkSpec spec = NetworkSpec.of(new int[] {1, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new GradientAccumulator(2).mean(new Network(spec), new double[2], 0, new double[2]));
        assertTrue(e.getMessage().contains("positive total weight"), e.getMessage());
    }
}
