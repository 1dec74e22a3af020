package io.sparkprop.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.optim.Adam;
import io.sparkprop.core.optim.LearningRateSchedule;
import io.sparkprop.core.optim.Momentum;
import io.sparkprop.core.optim.Sgd;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The single-process reference trainer learns, and is reproducible to the bit. */
class LocalTrainerTest {

    private static final DataBlock XOR = new DataBlock(4, 2, 1,
            new double[] {0, 0, 0, 1, 1, 0, 1, 1}, new double[] {0, 1, 1, 0}, null);

    @Test
    void learnsXorToFullAccuracy() {
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 8, 1}, Activation.TANH, Activation.SIGMOID,
                Loss.BINARY_CROSS_ENTROPY);
        LocalTrainer trainer = new LocalTrainer(spec, new LocalTrainer.Settings(4, 500, 1, 0.0, 0.0),
                new Adam(spec.paramCount()), LearningRateSchedule.constant(0.05));
        LocalTrainer.Result result = trainer.fit(XOR);
        Network network = new Network(spec);
        assertEquals(1.0, Evaluation.accuracy(network, result.params(), XOR));
        assertTrue(Evaluation.meanLoss(network, result.params(), XOR) < 0.05,
                "loss " + Evaluation.meanLoss(network, result.params(), XOR));
        assertEquals(500, result.history().size());
    }

    @Test
    void learnsXorWithNesterovMomentumAndReluToo() {
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 16, 1}, Activation.RELU, Activation.IDENTITY, Loss.MSE);
        LocalTrainer trainer = new LocalTrainer(spec, new LocalTrainer.Settings(2, 400, 4, 0.0, 1.0),
                new Momentum(spec.paramCount(), 0.9, true), LearningRateSchedule.constant(0.02));
        double[] params = trainer.fit(XOR).params();
        assertEquals(1.0, Evaluation.accuracy(new Network(spec), params, XOR));
    }

    @Test
    void learnsAThreeClassSpiral() {
        DataBlock spiral = spiral(100, 17);
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 64, 3}, Activation.RELU, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        Network network = new Network(spec);
        double before = Evaluation.accuracy(network, WeightInit.initialize(spec, 3), spiral);
        LocalTrainer trainer = new LocalTrainer(spec, new LocalTrainer.Settings(32, 300, 3, 1e-3, 0.0),
                new Adam(spec.paramCount()), LearningRateSchedule.cosine(0.02, 300 * 10).withWarmup(20));
        LocalTrainer.Result result = trainer.fit(spiral);
        double after = Evaluation.accuracy(network, result.params(), spiral);
        assertTrue(before < 0.7, "untrained accuracy " + before);
        assertTrue(after >= 0.95, "trained accuracy " + after);
        // The epoch objective went down by a lot.
        double first = result.history().get(0).meanObjective();
        double last = result.history().get(result.history().size() - 1).meanObjective();
        assertTrue(last < 0.25 * first, first + " -> " + last);
    }

    @Test
    void theSameSeedGivesBitIdenticalWeightsAndAnotherSeedDoesNot() {
        DataBlock spiral = spiral(40, 5);
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 16, 16, 3}, Activation.TANH, Activation.SOFTMAX,
                Loss.SOFTMAX_CROSS_ENTROPY);
        double[] a = train(spec, spiral, 9);
        double[] b = train(spec, spiral, 9);
        double[] c = train(spec, spiral, 10);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), "param " + i);
        }
        assertFalse(Arrays.equals(a, c));
    }

    @Test
    void aNonFiniteLossStopsTrainingNamingTheStep() {
        // A learning rate of 1e6 with plain SGD on MSE blows the weights up within a few steps.
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 8, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        DataBlock data = new DataBlock(4, 2, 1, new double[] {1, 2, 3, 4, 5, 6, 7, 8}, new double[] {1, 2, 3, 4}, null);
        LocalTrainer trainer = new LocalTrainer(spec, new LocalTrainer.Settings(2, 50, 1, 0.0, 0.0),
                new Sgd(spec.paramCount()), LearningRateSchedule.constant(1e6));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> trainer.fit(data));
        assertTrue(e.getMessage().startsWith("Non-finite") && e.getMessage().contains("epoch")
                && e.getMessage().contains("step"), e.getMessage());
    }

    @Test
    void settingsRejectBadValues() {
        assertThrows(IllegalArgumentException.class, () -> new LocalTrainer.Settings(0, 1, 1, 0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LocalTrainer.Settings(8, 1, 1, -0.1, 0));
        assertTrue(e.getMessage().contains("-0.1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LocalTrainer.Settings(8, 1, 1, 0, Double.NaN));
    }

    private static double[] train(NetworkSpec spec, DataBlock data, long seed) {
        return new LocalTrainer(spec, new LocalTrainer.Settings(16, 20, seed, 1e-4, 5.0),
                new Adam(spec.paramCount()), LearningRateSchedule.constant(0.01)).fit(data).params();
    }

    /** Three interleaved spiral arms (the CS231n toy problem), one-hot targets, seeded noise. */
    static DataBlock spiral(int perClass, long seed) {
        SplitMix64 random = new SplitMix64(seed);
        int rows = 3 * perClass;
        double[] x = new double[rows * 2];
        double[] y = new double[rows * 3];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < perClass; i++) {
                int r = c * perClass + i;
                double radius = (double) i / perClass;
                double theta = c * 4.0 + 4.0 * i / perClass + 0.2 * (random.nextDouble() - 0.5);
                x[2 * r] = radius * Math.sin(theta);
                x[2 * r + 1] = radius * Math.cos(theta);
                y[3 * r + c] = 1.0;
            }
        }
        return new DataBlock(rows, 2, 3, x, y, null);
    }
}
