package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The seeds' worked examples, derived by hand in the comments; the expected numbers are those
 * derivations (checked independently with a few lines of Python), not outputs of this code.
 */
class WorkedExamplesTest {

    private static final double TOL = 1e-12;

    /**
     * The gate f(w, x) = σ(w0·x0 + w1·x1 + w2) at w = (2, -3, -3), x = (-1, -2).
     * <pre>
     *   s = 2·(-1) + (-3)·(-2) + (-3) = 1;  f = σ(1) = 0.73106
     *   σ'(s) = σ(1)(1 - σ(1)) = 0.19661
     *   with upstream gradient ∂J/∂f = 1:
     *   ∂f/∂w = σ'(s)·(x0, x1, 1) = (-0.19661, -0.39322, 0.19661)
     *   ∂f/∂x = σ'(s)·(w0, w1)    = ( 0.39322, -0.58984)
     * </pre>
     * As a network: one layer, 2 inputs, 1 sigmoid unit; W = [[2, -3]], b = [-3].
     */
    @Test
    void sigmoidGateMatchesTheHandDerivation() {
        NetworkSpec spec = new NetworkSpec(List.of(new LayerSpec(2, 1, Activation.SIGMOID)), Loss.MSE);
        Network network = new Network(spec);
        double[] params = {2, -3, -3};
        Workspace ws = new Workspace(spec, 1).load(block(new double[] {-1, -2}, new double[] {0}, 2, 1), 0, 1);

        network.forward(params, ws);
        assertEquals(0.7310585786300049, ws.output()[0], TOL);
        assertEquals(0.7311, ws.output()[0], 5e-5);

        double[] grad = new double[3];
        double[] gradInput = new double[2];
        network.backward(params, ws, new double[] {1.0}, grad, gradInput);
        double sigmaPrime = 0.19661193324148185;
        assertArrayEquals(new double[] {-sigmaPrime, -2 * sigmaPrime, sigmaPrime}, grad, TOL);
        assertArrayEquals(new double[] {-0.1966, -0.3932, 0.1966}, grad, 5e-5);
        assertArrayEquals(new double[] {2 * sigmaPrime, -3 * sigmaPrime}, gradInput, TOL);
        assertArrayEquals(new double[] {0.3932, -0.5898}, gradInput, 5e-5);
    }

    /*
     * A 2-2-1 network, MSE loss J = ½(ŷ - y)², identity output, one example x = (1, 2), y = 1:
     *   W1 = [[0.1, 0.2], [-0.5, 0.1]], b1 = (0.1, 0.1);  W2 = [[0.5, -1.0]], b2 = 0.2
     *   s1 = W1 x + b1 = (0.1 + 0.4 + 0.1, -0.5 + 0.2 + 0.1) = (0.6, -0.2)
     * ReLU hidden units:
     *   h1 = (0.6, 0);  ŷ = s2 = 0.5·0.6 - 1.0·0 + 0.2 = 0.5;  J = ½(0.5 - 1)² = 0.125
     *   δ2 = ∂J/∂s2 = ŷ - y = -0.5
     *   ∇W2 = δ2 h1ᵀ = (-0.3, 0);  ∇b2 = δ2 = -0.5
     *   δ1 = (W2ᵀ δ2) ⊙ θ'(s1) = (-0.25, 0.5) ⊙ (1, 0) = (-0.25, 0)
     *   ∇W1 = δ1 xᵀ = [[-0.25, -0.5], [0, 0]];  ∇b1 = δ1 = (-0.25, 0)
     * Sigmoid hidden units:
     *   h1 = (σ(0.6), σ(-0.2)) = (0.6456563062257954, 0.45016600268752216)
     *   ŷ = 0.5·h1[0] - h1[1] + 0.2 = 0.07266215042537555;  J = ½(ŷ - 1)² = 0.42997774362684443
     *   δ2 = ŷ - 1 = -0.9273378495746245
     *   ∇W2 = δ2 h1ᵀ = (-0.5987415305797243, -0.41745597288385144);  ∇b2 = δ2
     *   W2ᵀ δ2 = (-0.46366892478731225, 0.9273378495746245);  θ'(s) = h(1 - h)
     *   δ1 = (-0.1060801427808202, 0.2295314862726974)
     *   ∇W1 = δ1 xᵀ = [[-0.1060801427808202, -0.2121602855616404], [0.2295314862726974, 0.4590629725453948]]
     */
    private static final double[] TWO_LAYER_PARAMS = {
        0.1, 0.2, -0.5, 0.1, // W1 (2, 2) row-major
        0.1, 0.1,            // b1
        0.5, -1.0,           // W2 (1, 2)
        0.2                  // b2
    };

    @Test
    void twoLayerReluNetworkMatchesTheHandDerivation() {
        double[] grad = new double[9];
        double loss = twoLayer(Activation.RELU, grad);
        assertEquals(0.125, loss, TOL);
        assertArrayEquals(new double[] {-0.25, -0.5, 0, 0, -0.25, 0, -0.3, 0, -0.5}, grad, TOL);
    }

    @Test
    void twoLayerSigmoidNetworkMatchesTheHandDerivation() {
        double[] grad = new double[9];
        double loss = twoLayer(Activation.SIGMOID, grad);
        assertEquals(0.42997774362684443, loss, TOL);
        assertArrayEquals(new double[] {
            -0.1060801427808202, -0.2121602855616404, 0.2295314862726974, 0.4590629725453948,
            -0.1060801427808202, 0.2295314862726974,
            -0.5987415305797243, -0.41745597288385144,
            -0.9273378495746245}, grad, TOL);
    }

    /** The MSE of a batch is the seeds' J = 1/(2N) Σ (y' - y)²: two copies of the example give the same mean. */
    @Test
    void meanOverABatchIsOneOverTwoNOfTheSquaredErrors() {
        NetworkSpec spec = twoLayerSpec(Activation.RELU);
        Network network = new Network(spec);
        // Second example x = (0, 0): s1 = b1 = (0.1, 0.1), h1 = (0.1, 0.1), ŷ = 0.05 - 0.1 + 0.2 = 0.15, y = 0.
        DataBlock data = block(new double[] {1, 2, 0, 0}, new double[] {1, 0}, 2, 1);
        Workspace ws = new Workspace(spec, 2).load(data, 0, 2);
        GradientAccumulator acc = new GradientAccumulator(spec.paramCount()).add(network, TWO_LAYER_PARAMS, ws);
        double j = acc.mean(network, TWO_LAYER_PARAMS, 0.0, new double[spec.paramCount()]);
        assertEquals((0.5 * 0.5 + 0.15 * 0.15) / (2 * 2), j, TOL);
    }

    private static double twoLayer(Activation hidden, double[] gradSum) {
        NetworkSpec spec = twoLayerSpec(hidden);
        Network network = new Network(spec);
        Workspace ws = new Workspace(spec, 4).load(block(new double[] {1, 2}, new double[] {1}, 2, 1), 0, 1);
        return network.lossAndGradient(TWO_LAYER_PARAMS, ws, gradSum);
    }

    private static NetworkSpec twoLayerSpec(Activation hidden) {
        return NetworkSpec.of(new int[] {2, 2, 1}, hidden, Activation.IDENTITY, Loss.MSE);
    }

    static DataBlock block(double[] x, double[] y, int numIn, int numOut) {
        return new DataBlock(x.length / numIn, numIn, numOut, x, y, null);
    }
}
