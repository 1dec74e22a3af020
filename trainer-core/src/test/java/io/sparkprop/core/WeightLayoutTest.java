package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.io.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The first layer's {@link WeightLayout#IN_OUT} storage: the index map by hand, exact conversion
 * both ways, the same initial values, the same bits as {@link WeightLayout#OUT_IN} for a sparse
 * input (both layouts sum the same products in the same order), the dense products within
 * rounding, and the gradient check passing in the new layout.
 */
class WeightLayoutTest {

    private static NetworkSpec inOut(NetworkSpec spec) {
        return spec.withFirstLayerLayout(WeightLayout.IN_OUT);
    }

    @Test
    void aFeaturesWeightsAreContiguousInOut() {
        // 3 inputs, 2 units: W = [[w00 w01 w02], [w10 w11 w12]], then b0 b1, then layer 1 (2 -> 1).
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 2, 1}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        double[] outIn = {0, 1, 2, 10, 11, 12, 100, 101, 7, 8, 9};
        double[] expected = {0, 10, 1, 11, 2, 12, 100, 101, 7, 8, 9};
        double[] laidOut = spec.relayout(outIn, inOut(spec));
        assertArrayEquals(expected, laidOut);
        assertArrayEquals(outIn, inOut(spec).relayout(laidOut, spec));
        assertSame(outIn, spec.relayout(outIn, spec), "same layout: no copy");
        assertNotEquals(spec, inOut(spec));
        assertTrue(spec.sameTopology(inOut(spec)));
        assertTrue(inOut(spec).toString().endsWith("[first layer IN_OUT]"), inOut(spec).toString());
        assertThrows(IllegalArgumentException.class, () -> spec.relayout(new double[3], inOut(spec)));
        NetworkSpec other = NetworkSpec.of(new int[] {3, 2, 2}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        assertThrows(IllegalArgumentException.class, () -> spec.relayout(outIn, other));
    }

    /**
     * The in-place relayout moves every value where the index map says, both ways, for the shapes
     * of each of its paths: numOut dividing numIn (blocks and rows of blocks), numIn dividing numOut,
     * a square block, neither (value by value), a single input or output; the rest of the array
     * stays where it was. The expected positions are computed here from W[o][i]'s two addresses.
     */
    @Test
    void relayoutInPlaceMovesEachValueToItsOtherAddress() {
        int[][] shapes = {{12, 4}, {4, 12}, {5, 5}, {7, 3}, {3, 7}, {1, 6}, {6, 1}, {64, 8}, {10, 4}};
        for (int[] shape : shapes) {
            int numIn = shape[0];
            int numOut = shape[1];
            NetworkSpec spec = NetworkSpec.of(new int[] {numIn, numOut, 2}, Activation.TANH, Activation.IDENTITY,
                    Loss.MSE);
            double[] outIn = new double[spec.paramCount()];
            for (int p = 0; p < outIn.length; p++) {
                outIn[p] = p + 0.5;
            }
            double[] expected = outIn.clone();
            for (int o = 0; o < numOut; o++) {
                for (int i = 0; i < numIn; i++) {
                    expected[i * numOut + o] = outIn[o * numIn + i]; // the first layer's weights start at 0
                }
            }
            double[] inPlace = outIn.clone();
            spec.relayoutInPlace(inPlace, inOut(spec));
            String what = numIn + "-" + numOut;
            assertArrayEquals(expected, inPlace, what);
            assertArrayEquals(spec.relayout(outIn, inOut(spec)), inPlace, what);
            inOut(spec).relayoutInPlace(inPlace, spec);
            assertArrayEquals(outIn, inPlace, what + " and back");
            spec.relayoutInPlace(inPlace, spec);
            assertArrayEquals(outIn, inPlace, what + " same layout");
        }
        NetworkSpec spec = NetworkSpec.of(new int[] {3, 2, 1}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        assertThrows(IllegalArgumentException.class, () -> spec.relayoutInPlace(new double[3], inOut(spec)));
    }

    @Test
    void initialValuesDoNotDependOnTheLayout() {
        NetworkSpec spec = NetworkSpec.of(new int[] {30, 8, 3}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] canonical = WeightInit.initialize(spec, 9);
        assertArrayEquals(spec.relayout(canonical, inOut(spec)), WeightInit.initialize(inOut(spec), 9));
    }

    @ParameterizedTest(name = "{0} hidden, {1} output, {2}, l2={3}, weighted={4}")
    @MethodSource("io.sparkprop.core.GradientCheckTest#combinations")
    void sparseInputGivesTheSameBitsInBothLayoutsAndDenseWithinRounding(Activation hidden, Activation output,
                                                                         Loss loss, double l2, boolean weighted) {
        NetworkSpec spec = NetworkSpec.of(new int[] {9, 6, 5, 3}, hidden, output, loss);
        NetworkSpec laid = inOut(spec);
        long seed = 17L * hidden.ordinal() + 5L * output.ordinal() + loss.ordinal();
        double[] params = WeightInit.initialize(spec, seed);
        double[] laidParams = spec.relayout(params, laid);
        DataBlock dense = SparseInputTest.mostlyZero(spec, 7, weighted, seed + 1);
        DataBlock sparse = SparseInputTest.toSparse(dense);
        for (Precision precision : Precision.values()) {
            double[] grad = new double[spec.paramCount()];
            double lossValue = new Network(spec, precision).lossAndGradient(params,
                    new Workspace(spec, 7).load(sparse, 0, 7), grad);
            double[] laidGrad = new double[spec.paramCount()];
            double laidLoss = new Network(laid, precision).lossAndGradient(laidParams,
                    new Workspace(laid, 7).load(sparse, 0, 7), laidGrad);
            assertEquals(lossValue, laidLoss, precision.name());
            assertArrayEquals(spec.relayout(grad, laid), laidGrad, precision.name());

            // Dense input: BLAS with other transpose flags, so equal within rounding.
            double[] denseGrad = new double[spec.paramCount()];
            double denseLoss = new Network(spec, precision).lossAndGradient(params,
                    new Workspace(spec, 7).load(dense, 0, 7), denseGrad);
            double[] laidDenseGrad = new double[spec.paramCount()];
            double laidDenseLoss = new Network(laid, precision).lossAndGradient(laidParams,
                    new Workspace(laid, 7).load(dense, 0, 7), laidDenseGrad);
            double tolerance = precision == Precision.FLOAT64 ? 1e-12 : 1e-5;
            assertEquals(denseLoss, laidDenseLoss, tolerance * Math.max(1, Math.abs(denseLoss)));
            double[] expected = spec.relayout(denseGrad, laid);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], laidDenseGrad[i], tolerance * Math.max(1, Math.abs(expected[i])),
                        precision + " parameter " + i);
            }
        }
        for (DataBlock data : new DataBlock[] {dense, sparse}) {
            GradientCheck.Result check = GradientCheck.check(new Network(laid), laidParams, data, l2,
                    GradientCheck.Options.defaults());
            assertTrue(check.passed(), check::toString);
        }
    }

    @Test
    void theInputGradientIsTheSameInBothLayouts() {
        NetworkSpec spec = NetworkSpec.of(new int[] {5, 4, 2}, Activation.TANH, Activation.IDENTITY, Loss.MSE);
        NetworkSpec laid = inOut(spec);
        double[] params = WeightInit.initialize(spec, 4);
        DataBlock data = GradientCheckTest.randomData(spec, 3, false, 8);
        double[] upstream = {0.3, -0.2, 0.1, 0.5, -0.4, 0.25};
        double[][] gradInputs = new double[2][15];
        NetworkSpec[] specs = {spec, laid};
        for (int l = 0; l < 2; l++) {
            Network network = new Network(specs[l]);
            Workspace ws = new Workspace(specs[l], 3).load(data, 0, 3);
            double[] p = spec.relayout(params, specs[l]);
            network.forward(p, ws);
            network.backward(p, ws, upstream, new double[spec.paramCount()], gradInputs[l]);
        }
        for (int i = 0; i < 15; i++) {
            assertEquals(gradInputs[0][i], gradInputs[1][i], 1e-15, "input gradient " + i);
        }
    }

    @Test
    void modelsAndExportsTakeOnlyTheFileLayout() {
        NetworkSpec laid = inOut(NetworkSpec.of(new int[] {3, 2}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Model(laid, new double[laid.paramCount()]));
        assertTrue(e.getMessage().contains("relayout"), e.getMessage());
    }
}
