package io.sparkprop.bench.cluster;

import io.sparkprop.bench.MlpcRunner;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.ml.MlpClassificationModel;
import io.sparkprop.spark.ml.MlpClassifier;
import io.sparkprop.spark.ml.MlpRegressionModel;
import io.sparkprop.spark.ml.MlpRegressor;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The estimators end to end on whatever master the session has, for {@code scripts/cluster-test}:
 * an {@link MlpClassifier} with sparse blocks, a validation split, checkpoints and a report, and a
 * dense {@link MlpRegressor}, both fitted on the first 4,000 MNIST test images and used to
 * transform them. Prints one line per model with the CRC32C of its weights and of its predictions
 * in row order. The same input and partition count must print the same lines in local mode and on
 * a cluster: that checks the estimators' task functions, broadcasts and results across processes.
 *
 * <p>Usage: {@code EstimatorCheck MNIST_DIR WORK_DIR}
 */
public final class EstimatorCheck {

    private EstimatorCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("Usage: EstimatorCheck MNIST_DIR WORK_DIR");
        }
        SparkSession spark = Main.session("estimator-check");
        try {
            for (String line : run(spark, Path.of(args[0]), args[1])) {
                System.out.println(line);
            }
        } finally {
            spark.stop();
        }
    }

    static List<String> run(SparkSession spark, Path mnist, String work) {
        Dataset<Row> data = MlpcRunner.loadIdx(spark, mnist.resolve("t10k-images-idx3-ubyte.gz"),
                mnist.resolve("t10k-labels-idx1-ubyte.gz"), 4000, 2);
        MlpClassificationModel classifier = new MlpClassifier().setLayers(new int[] {784, 32, 10}).setMaxIter(2)
                .setBatchSize(100).setLocalSteps(8).setSparse(true).setValidationFraction(0.1).setSeed(5)
                .setCheckpointDir(work + "/checkpoints").setReportDir(work + "/report").fit(data);
        MlpRegressionModel regressor = new MlpRegressor().setLayers(new int[] {784, 8, 1}).setMaxIter(1)
                .setBatchSize(100).setLocalSteps(4).setSeed(6).fit(data);
        return List.of(line("classifier", classifier.weights().toArray(), classifier.transform(data)),
                line("regressor", regressor.weights().toArray(), regressor.transform(data)));
    }

    private static String line(String name, double[] weights, Dataset<Row> scored) {
        CRC32C predictions = new CRC32C();
        for (Row row : scored.select("prediction").collectAsList()) {
            predictions.update(ByteBuffer.allocate(8).putDouble(row.getDouble(0)).array());
        }
        return String.format(Locale.ROOT, "%s weights %08x predictions %08x (%d rows)", name, crc(weights),
                predictions.getValue(), scored.count());
    }

    private static long crc(double[] values) {
        CRC32C crc = new CRC32C();
        ByteBuffer bytes = ByteBuffer.allocate(8 * values.length);
        for (double v : values) {
            bytes.putDouble(v);
        }
        crc.update(bytes.array());
        return crc.getValue();
    }
}
