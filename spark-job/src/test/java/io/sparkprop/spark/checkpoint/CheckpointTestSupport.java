package io.sparkprop.spark.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.sparkprop.core.SplitMix64;
import java.util.Locale;

/**
 * What the checkpoint integration tests share: a tiny classification data set written by the test
 * itself, one config for it, and a bit-for-bit weight comparison. The run is 4 epochs of 30 steps
 * (600 rows, batch 20) with a checkpoint every 7 global steps and at each epoch's end, so a run
 * writes 21 checkpoints and keeps the newest 3 (global steps 112, 119 and 120).
 */
final class CheckpointTestSupport {

    static final int ROWS = 600;
    static final int FEATURES = 8;
    static final int CLASSES = 3;
    static final int STEPS_PER_EPOCH = 30;
    static final int EPOCHS = 4;
    static final int EVERY_STEPS = 7;
    static final int KEEP = 3;

    private CheckpointTestSupport() {
    }

    /**
     * The training CSV: a header, then {@link #ROWS} rows of a class label in 0..2 and 8 features
     * uniform in [-1, 1) from a seeded SplitMix64; the label is the largest of three fixed linear
     * scores, so the classes are learnable.
     */
    static String trainingCsv() {
        SplitMix64 random = new SplitMix64(20240611L);
        StringBuilder csv = new StringBuilder("label");
        for (int j = 0; j < FEATURES; j++) {
            csv.append(",x").append(j);
        }
        csv.append('\n');
        double[] x = new double[FEATURES];
        for (int i = 0; i < ROWS; i++) {
            for (int j = 0; j < FEATURES; j++) {
                x[j] = 2 * random.nextDouble() - 1;
            }
            double[] score = {x[0] + x[1] - x[2], x[3] - x[4] + x[5], x[6] - x[7] + 0.5 * x[0]};
            int label = 0;
            for (int k = 1; k < CLASSES; k++) {
                if (score[k] > score[label]) {
                    label = k;
                }
            }
            csv.append(label);
            for (double v : x) {
                // %.17g round-trips every double, so the parsed features are exactly the generated ones.
                csv.append(',').append(String.format(Locale.ROOT, "%.17g", v));
            }
            csv.append('\n');
        }
        return csv.toString();
    }

    /** The run's config; {@code train} is the CSV's path, relative paths resolving against the config's directory. */
    static String config(String train) {
        return String.join("\n",
                "data.format = csv",
                "data.train = " + train,
                "data.label-column = label",
                "data.partitions = 2",
                "model.layers = " + FEATURES + ",16," + CLASSES,
                "model.hidden-activation = tanh",
                "train.epochs = " + EPOCHS,
                "train.batch-size = 20",
                "train.seed = 11",
                "train.optimizer = adam",
                "train.learning-rate = 0.01",
                "train.schedule = constant",
                "train.local-steps = 1",
                "checkpoint.every-steps = " + EVERY_STEPS,
                "checkpoint.keep = " + KEEP,
                "");
    }

    /** The checkpoint directory name of {@code globalStep}, as CheckpointStore writes it. */
    static String stepDir(long globalStep) {
        return String.format(Locale.ROOT, "step-%012d", globalStep);
    }

    /** Fails unless the two weight vectors are equal bit for bit, naming the first parameter that differs. */
    static void assertSameBits(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": parameter count");
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
                fail(String.format(Locale.ROOT, "%s: parameter %d of %d differs: expected %s (%016x) but got %s (%016x)",
                        what, i, expected.length, expected[i], Double.doubleToRawLongBits(expected[i]), actual[i],
                        Double.doubleToRawLongBits(actual[i])));
            }
        }
    }
}
