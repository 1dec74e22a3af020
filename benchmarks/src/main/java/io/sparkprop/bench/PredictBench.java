package io.sparkprop.bench;

import io.sparkprop.spark.Main;
import io.sparkprop.spark.ml.MlpClassificationModel;
import io.sparkprop.spark.ml.MlpClassifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Prediction throughput: {@link MlpClassificationModel#transform} (weights broadcast once, rows
 * through the network {@code blockSize} at a time) at blockSize 128 and 1, next to MLlib's
 * {@code MultilayerPerceptronClassificationModel} (a per-row UDF whose closure carries the model)
 * with the same layers, on the same cached MNIST DataFrame in the same process. Every output
 * column is materialized (Spark's {@code noop} sink); the median of {@code --reps} runs counts.
 */
public final class PredictBench {

    static final String USAGE = """
            Usage: scripts/bench-predict [--master M] [--rows N] [--reps R] [--data-dir DIR]
              --rows N      MNIST training images to predict (default 60000)
              --reps R      timed runs per variant, after one warm-up (default 5)
              --data-dir D  where the MNIST IDX files are (default data/mnist)
            """;

    private PredictBench() {
    }

    public static void main(String[] args) throws Exception {
        int rows = 60_000;
        int reps = 5;
        Path data = Path.of("data/mnist");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rows" -> rows = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--data-dir" -> data = Path.of(args[++i]);
                default -> {
                    System.out.println(USAGE);
                    if (!args[i].equals("--help") && !args[i].equals("-h")) {
                        throw new IllegalArgumentException("Unknown option " + args[i]);
                    }
                    return;
                }
            }
        }
        SparkSession spark = Main.session("bench-predict");
        try {
            run(spark, data, rows, reps);
        } finally {
            spark.stop();
        }
    }

    static void run(SparkSession spark, Path data, int rows, int reps) {
        int partitions = spark.sparkContext().defaultParallelism();
        Dataset<Row> frame = MlpcRunner.loadIdx(spark, data.resolve("train-images-idx3-ubyte.gz"),
                data.resolve("train-labels-idx1-ubyte.gz"), rows, partitions);
        int[] layers = {784, 256, 128, 10};
        // One epoch (sparkprop) and one iteration (MLlib) each: the weights' values do not change the cost.
        MlpClassificationModel ours = new MlpClassifier().setLayers(layers).setMaxIter(1).fit(frame);
        MultilayerPerceptronClassificationModel mllib = new MultilayerPerceptronClassifier().setLayers(layers)
                .setMaxIter(1).setSeed(1).fit(frame);
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "Prediction: %d MNIST rows in %d partitions, %s layers, master %s, %d"
                + " runs each (median)", rows, partitions, Arrays.toString(layers), spark.sparkContext().master(), reps));
        double base = time(() -> mllib.transform(frame), reps);
        lines.add(row("MLlib MLPC model (per-row UDF)", rows, base, base));
        double perRow = time(() -> ours.copy(new org.apache.spark.ml.param.ParamMap()).setBlockSize(1)
                .transform(frame), reps);
        lines.add(row("sparkprop, blockSize 1", rows, perRow, base));
        double blocked = time(() -> ours.transform(frame), reps);
        lines.add(row("sparkprop, blockSize 128 (default)", rows, blocked, base));
        System.out.println(String.join("\n", lines));
    }

    private static String row(String name, int rows, double seconds, double base) {
        return String.format(Locale.ROOT, "  %-36s %7.3f s  %9.0f rows/s  %5.2fx MLlib", name, seconds, rows / seconds,
                base / seconds);
    }

    /** The median seconds of {@code reps} runs writing every column of {@code scored} to the noop sink. */
    private static double time(Supplier<Dataset<Row>> scored, int reps) {
        scored.get().write().format("noop").mode("overwrite").save();
        double[] seconds = new double[reps];
        for (int r = 0; r < reps; r++) {
            long start = System.nanoTime();
            scored.get().write().format("noop").mode("overwrite").save();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds[reps / 2];
    }
}
