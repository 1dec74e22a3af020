package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.LearningRateSchedule;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Precision#FLOAT32}: the matrix products in float, the rest in double, deterministic, and
 * as good as {@link Precision#FLOAT64} for training.
 */
class PrecisionTest {

    private static final double TINY = Math.scalb(1.0, -30); // 1 + TINY is a double but not a float

    @Test
    void productsRoundTheirInputsToFloatWhileBiasesStayDouble() {
        // One identity unit, a = b + w x, MSE (L = ½ (a - y)², so ∂L/∂a = a - y).
        NetworkSpec spec = NetworkSpec.of(new int[] {1, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        double w = 1 + TINY;
        double b = TINY;
        double x = 1 + TINY;
        double y = 0.25;
        double[] params = new double[spec.paramCount()];
        params[spec.weightOffset(0)] = w;
        params[spec.biasOffset(0)] = b;
        DataBlock row = new DataBlock(1, 1, 1, new double[] {x}, new double[] {y}, null);

        double[] grad64 = new double[2];
        Workspace ws64 = new Workspace(spec, 1).load(row, 0, 1);
        new Network(spec).lossAndGradient(params, ws64, grad64);
        double a64 = b + w * x;
        assertEquals(a64, ws64.output()[0]);
        assertEquals(a64 - y, grad64[spec.biasOffset(0)]);
        assertEquals((a64 - y) * x, grad64[spec.weightOffset(0)]);

        double[] grad32 = new double[2];
        Workspace ws32 = new Workspace(spec, 1).load(row, 0, 1);
        new Network(spec, Precision.FLOAT32).lossAndGradient(params, ws32, grad32);
        // (float) w = (float) x = 1, so the product is exactly 1; the bias is added in double.
        double a32 = b + 1.0;
        assertEquals(a32, ws32.output()[0]);
        assertTrue(a32 != a64, "the float product differs from the double one here");
        // ∇b is the double delta; ∇W is the float delta times (float) x = 1, widened.
        assertEquals(a32 - y, grad32[spec.biasOffset(0)]);
        assertEquals((double) (float) (a32 - y), grad32[spec.weightOffset(0)]);
    }

    @ParameterizedTest(name = "{0} hidden, {1} output, {2}, l2={3}, weighted={4}")
    @MethodSource("io.sparkprop.core.GradientCheckTest#combinations")
    void float32LossAndGradientAreCloseToFloat64AndDeterministic(Activation hidden, Activation output, Loss loss,
                                                                double l2, boolean weighted) {
        NetworkSpec spec = NetworkSpec.of(new int[] {4, 6, 5, 3}, hidden, output, loss);
        long seed = 17L * hidden.ordinal() + 5L * output.ordinal() + loss.ordinal();
        double[] params = WeightInit.initialize(spec, seed);
        DataBlock data = GradientCheckTest.randomData(spec, 7, weighted, seed + 2);

        double[] grad64 = new double[spec.paramCount()];
        Network net64 = new Network(spec);
        double loss64 = net64.lossAndGradient(params, new Workspace(spec, 7).load(data, 0, 7), grad64)
                + net64.addL2(params, l2, grad64);
        Network net32 = new Network(spec, Precision.FLOAT32);
        double[] grad32 = new double[spec.paramCount()];
        double loss32 = net32.lossAndGradient(params, new Workspace(spec, 7).load(data, 0, 7), grad32)
                + net32.addL2(params, l2, grad32);
        double[] again = new double[spec.paramCount()];
        net32.lossAndGradient(params, new Workspace(spec, 7).load(data, 0, 7), again);
        net32.addL2(params, l2, again);

        assertEquals(loss64, loss32, 1e-5 * Math.max(1, Math.abs(loss64)));
        double scale = 0;
        for (double g : grad64) {
            scale = Math.max(scale, Math.abs(g));
        }
        for (int i = 0; i < grad64.length; i++) {
            assertEquals(grad64[i], grad32[i], 1e-5 * Math.max(1, scale), "parameter " + i);
        }
        assertArrayEquals(grad32, again, "float32 is deterministic");
        assertFalse(java.util.Arrays.equals(grad64, grad32), "float32 really computes in float");
    }

    @Test
    void backwardFromAnUpstreamGradientMatchesFloat64WithTheInputGradient() {
        NetworkSpec spec = NetworkSpec.of(new int[] {5, 8, 4}, Activation.TANH, Activation.SIGMOID,
                Loss.BINARY_CROSS_ENTROPY);
        double[] params = WeightInit.initialize(spec, 3);
        DataBlock data = GradientCheckTest.randomData(spec, 6, false, 4);
        double[] upstream = new double[6 * 4];
        for (int i = 0; i < upstream.length; i++) {
            upstream[i] = Math.sin(i);
        }
        double[][] results = new double[2][];
        double[][] inputs = new double[2][];
        Precision[] precisions = {Precision.FLOAT64, Precision.FLOAT32};
        for (int p = 0; p < 2; p++) {
            Network net = new Network(spec, precisions[p]);
            Workspace ws = new Workspace(spec, 6).load(data, 0, 6);
            net.forward(params, ws);
            results[p] = new double[spec.paramCount()];
            inputs[p] = new double[6 * 5];
            net.backward(params, ws, upstream, results[p], inputs[p]);
        }
        for (int i = 0; i < results[0].length; i++) {
            assertEquals(results[0][i], results[1][i], 1e-5, "parameter " + i);
        }
        for (int i = 0; i < inputs[0].length; i++) {
            assertEquals(inputs[0][i], inputs[1][i], 1e-5, "input gradient " + i);
        }
    }

    @Test
    void float32TrainsTheSpiralAsWellAsFloat64() {
        DataBlock spiral = LocalTrainerTest.spiral(100, 17);
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 64, 3}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[][] trained = new double[2][];
        Precision[] precisions = {Precision.FLOAT64, Precision.FLOAT32};
        for (int p = 0; p < 2; p++) {
            trained[p] = new LocalTrainer(spec, new LocalTrainer.Settings(32, 300, 3, 1e-3, 0.0),
                    new Adam(spec.paramCount()), LearningRateSchedule.cosine(0.02, 300 * 10).withWarmup(20),
                    precisions[p]).fit(spiral).params();
        }
        double accuracy64 = Evaluation.accuracy(new Network(spec), trained[0], spiral);
        double accuracy32 = Evaluation.accuracy(new Network(spec), trained[1], spiral);
        assertTrue(accuracy32 >= 0.95 && Math.abs(accuracy32 - accuracy64) <= 0.02, accuracy64 + " vs " + accuracy32);
    }

    @Test
    void precisionsAreNamedByTheirConfigValues() {
        assertEquals(Precision.FLOAT32, Precision.of("float32"));
        assertEquals(Precision.FLOAT64, Precision.of("float64"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.of("half"));
        assertTrue(e.getMessage().contains("'half'") && e.getMessage().contains("float64 or float32"), e.getMessage());
    }
}
