package io.sparkprop.spark.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.cli.TrainCommand;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.ml.MlpClassifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sample weights that sum to zero (issue 13, item 4): before, a run trained nothing, logged NaN
 * losses and reported "Trained 3 epochs; model written". Now both doors refuse the data before
 * training, naming the weight column and the sum.
 */
class DegenerateWeightsTest {

    @TempDir
    Path dir;


    @Test
    void theCommandLineRefusesTrainingRowsOfZeroTotalWeight() throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,label,w\n");
        for (int r = 0; r < 40; r++) {
            csv.append(String.format(Locale.ROOT, "%.3f,%.3f,%d,0%n", Math.sin(r), Math.cos(r), r % 2));
        }
        Path data = Files.writeString(dir.resolve("zero.csv"), csv.toString(), StandardCharsets.UTF_8);
        Path run = dir.resolve("run");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainCommand.run(
                SparkTestSupport.spark(), JobConfig.defaults().withOverrides(List.of("data.format=csv",
                        "data.train=" + data, "data.weight-column=w", "data.partitions=2", "model.layers=2,4,2",
                        "train.epochs=3")), run.toString()));
        assertTrue(e.getMessage().contains("data.weight-column = w") && e.getMessage().contains("sum to 0.0 over 40")
                && e.getMessage().contains("training"), e.getMessage());
        assertFalse(Files.exists(run.resolve("model.spm")), "a run that did not train writes no model");
    }

    @Test
    void theEstimatorsRefuseTrainingOrValidationRowsOfZeroTotalWeight() {
        SparkSession spark = SparkTestSupport.spark();
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < 50; r++) {
            boolean validation = r % 5 == 0;
            double weight = validation ? 0.0 : 1.0;
            rows.add(RowFactory.create(Vectors.dense(Math.sin(r), Math.cos(r)), (double) (r % 2), weight, validation));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType)
                .add("w", DataTypes.DoubleType).add("isVal", DataTypes.BooleanType);
        Dataset<Row> df = spark.createDataFrame(rows, schema).coalesce(2);
        Dataset<Row> allZero = df.withColumn("w", org.apache.spark.sql.functions.lit(0.0));

        Exception train = assertThrows(Exception.class, () -> new MlpClassifier().setLayers(new int[] {2, 4, 2})
                .setMaxIter(2).setWeightCol("w").fit(allZero));
        assertTrue(SparkTestSupport.messages(train).contains("weightCol 'w'") && SparkTestSupport.messages(train).contains("sum to 0.0 over 50"),
                SparkTestSupport.messages(train));

        Exception validation = assertThrows(Exception.class, () -> new MlpClassifier().setLayers(new int[] {2, 4, 2})
                .setMaxIter(2).setWeightCol("w").setValidationIndicatorCol("isVal").fit(df));
        assertTrue(SparkTestSupport.messages(validation).contains("validation rows' sample weights")
                && SparkTestSupport.messages(validation).contains("over 10 rows"), SparkTestSupport.messages(validation));
    }
}
