package io.sparkprop.spark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.report.RunDirectory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lazy local SGD over {@code train.shuffle = window}: a windowed source cannot announce a round's
 * columns, so each task's working set copies rows as its steps first gather them (out of the
 * features' order). Through the command line on LIBSVM chunks: lazy SGD is within rounding of
 * dense SGD (a row copied from the wrong start would be far off), two runs give the same bits, and
 * so do the changes shipped dense instead of row-sparse (whose rows must be in the features' order).
 */
class LazyWindowShuffleTest {

    @TempDir
    static Path tmp;

    /** 600 rows of 300 features, 6 nonzeros a row from the first 60, the class by which third holds three of them. */
    private static Path libsvm() throws IOException {
        SplitMix64 random = new SplitMix64(21);
        StringBuilder text = new StringBuilder();
        for (int r = 0; r < 600; r++) {
            int label = random.nextInt(3);
            TreeMap<Integer, Double> row = new TreeMap<>();
            while (row.size() < 3) {
                row.put(label * 20 + random.nextInt(20), 1.0);
            }
            while (row.size() < 6) {
                row.put(random.nextInt(60), random.nextDouble());
            }
            text.append(label);
            row.forEach((c, v) -> text.append(' ').append(c + 1).append(':')
                    .append(String.format(Locale.ROOT, "%.17g", v)));
            text.append('\n');
        }
        Path file = tmp.resolve("train.libsvm");
        Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
        return file;
    }

    private static double[] train(Path data, String name, String sparseUpdate) throws Exception {
        Path config = tmp.resolve(name + ".conf");
        Files.writeString(config, String.join("\n",
                "data.format = libsvm",
                "data.train = " + data,
                "data.num-features = 300",
                "data.sparse = true",
                "data.scaling = none",
                "data.partitions = 2",
                "data.chunk-bytes = 2048",
                "model.layers = 300,8,3",
                "model.hidden-activation = tanh",
                "train.optimizer = sgd",
                "train.learning-rate = 0.05",
                "train.batch-size = 40",
                "train.local-steps = 4",
                "train.epochs = 2",
                "train.seed = 9",
                "train.shuffle = window",
                "train.shuffle-buffer = 2",
                "train.sparse-update = " + sparseUpdate,
                ""), StandardCharsets.UTF_8);
        Path run = tmp.resolve(name);
        assertEquals(0, Main.run(SparkTestSupport.spark(), "train", "--config", config.toString(), "--run-dir",
                run.toString()));
        return ModelCodec.read(run.resolve(RunDirectory.MODEL)).params();
    }

    @Test
    void lazySgdOverWindowsIsDenseSgdWithinRoundingAndReproducible() throws Exception {
        Path data = libsvm();
        double[] dense = train(data, "dense", "dense");
        double[] lazy = train(data, "lazy", "lazy");
        for (int i = 0; i < dense.length; i++) {
            assertEquals(dense[i], lazy[i], 1e-12 * Math.max(1, Math.abs(dense[i])), "parameter " + i);
        }
        assertNotEquals(io.sparkprop.core.WeightInit.initialize(
                io.sparkprop.core.NetworkSpec.of(new int[] {300, 8, 3}, io.sparkprop.core.Activation.TANH,
                        io.sparkprop.core.Activation.SOFTMAX, io.sparkprop.core.Loss.SOFTMAX_CROSS_ENTROPY), 9)[0],
                lazy[0], "the first layer trained");
        double[] again = train(data, "lazy-again", "lazy");
        // The changes travelled row-sparse, in the features' order; dense, they give the same bits.
        System.setProperty(RoundResult.DENSE_FRACTION_PROPERTY, "0");
        double[] denseChanges;
        try {
            denseChanges = train(data, "lazy-dense-changes", "lazy");
        } finally {
            System.clearProperty(RoundResult.DENSE_FRACTION_PROPERTY);
        }
        for (int i = 0; i < lazy.length; i++) {
            assertEquals(Double.doubleToRawLongBits(lazy[i]), Double.doubleToRawLongBits(again[i]), "parameter " + i);
            assertEquals(Double.doubleToRawLongBits(lazy[i]), Double.doubleToRawLongBits(denseChanges[i]),
                    "parameter " + i + " with dense changes");
        }
    }
}
