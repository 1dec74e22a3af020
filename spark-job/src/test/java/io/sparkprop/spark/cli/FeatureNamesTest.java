package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.config.JobConfig;
import io.sparkprop.spark.report.EvaluationMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model trained on named columns (CSV with a header, Parquet numeric columns) without
 * data.feature-columns records their names (sparkprop.feature-columns), and predict and evaluate
 * find the features by those names: the same rows with the columns in another order, and an ID
 * column, give the same predictions and metrics; a missing feature column is an error naming it.
 * Positional training data (CSV without a header) records no names.
 */
class FeatureNamesTest {

    private static final int ROWS = 60;

    @TempDir
    static Path dir;

    private static double[][] x;
    private static int[] label;

    @BeforeAll
    static void data() {
        SplitMix64 random = new SplitMix64(3);
        x = new double[ROWS][3];
        label = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < 3; j++) {
                x[r][j] = (j + 1) * (2 * random.nextDouble() - 1) + j;
            }
            label[r] = x[r][0] > 0 ? 0 : x[r][1] > 1 ? 1 : 2;
        }
    }

    /** A CSV of {@code columns} (any order of id, label, a, b, c), with a header unless {@code header} is false. */
    private static Path csv(String name, boolean header, String... columns) throws Exception {
        StringBuilder text = new StringBuilder(header ? String.join(",", columns) + "\n" : "");
        for (int r = 0; r < ROWS; r++) {
            List<String> fields = new ArrayList<>();
            for (String column : columns) {
                fields.add(switch (column) {
                    case "id" -> "row" + r;
                    case "label" -> Integer.toString(label[r]);
                    default -> Double.toString(x[r][column.charAt(0) - 'a']);
                });
            }
            text.append(String.join(",", fields)).append('\n');
        }
        return Files.writeString(dir.resolve(name), text.toString());
    }

    private static Path train(String name, String... settings) {
        List<String> all = new ArrayList<>(List.of("data.partitions=2", "train.epochs=2", "train.batch-size=16",
                "train.learning-rate=0.05", "model.layers=3,5,3", "data.scaling=standardize"));
        all.addAll(List.of(settings));
        Path run = dir.resolve(name);
        TrainCommand.run(SparkTestSupport.spark(), JobConfig.defaults().withOverrides(all), run.toString());
        return run.resolve("model.spm");
    }

    private static Path config(String name, String... lines) throws Exception {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    /** predict's probability columns, row by row in input order (by input_row, or by the "row<r>" id). */
    private static List<List<Double>> predict(Path conf, Path model, Path input, String output, String passthrough)
            throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        List<String> args = new ArrayList<>(List.of("predict", "--config", conf.toString(), "--model",
                model.toString(), "--input", input.toString(), "--output", dir.resolve(output).toString()));
        if (passthrough != null) {
            args.addAll(List.of("--passthrough", passthrough));
        }
        assertEquals(0, Main.run(spark, args.toArray(new String[0])));
        List<Row> rows = new ArrayList<>(spark.read().parquet(dir.resolve(output).toString()).collectAsList());
        rows.sort((p, q) -> Long.compare(order(p), order(q)));
        List<List<Double>> probabilities = new ArrayList<>();
        for (Row row : rows) {
            probabilities.add(List.of(row.getDouble(row.fieldIndex("probability_0")),
                    row.getDouble(row.fieldIndex("probability_1")), row.getDouble(row.fieldIndex("probability_2"))));
        }
        return probabilities;
    }

    private static long order(Row row) {
        return row.schema().getFieldIndex("id").isDefined()
                ? Long.parseLong(row.getString(row.fieldIndex("id")).substring(3)) : row.getLong(row.fieldIndex("input_row"));
    }

    @Test
    void csvFeaturesAreFoundByTheirTrainedNames() throws Exception {
        Path trainCsv = csv("train.csv", true, "label", "a", "b", "c");
        Path model = train("csv-run", "data.format=csv", "data.train=" + trainCsv);
        assertEquals("[\"a\",\"b\",\"c\"]",
                ModelCodec.read(model).metadata().get("sparkprop.feature-columns"));

        Path conf = config("csv.conf", "data.format = csv");
        List<List<Double>> asTrained = predict(conf, model, trainCsv, "as-trained", null);
        Path reordered = csv("reordered.csv", true, "id", "c", "label", "a", "b");
        List<List<Double>> byName = predict(conf, model, reordered, "reordered", "id");
        assertEquals(ROWS, asTrained.size());
        assertEquals(asTrained, byName);
        // Without labels at all, and the ID not passed through (it is not a feature by name).
        Path unlabelled = csv("unlabelled.csv", true, "b", "id", "c", "a");
        assertEquals(asTrained, predict(conf, model, unlabelled, "unlabelled", null));

        Path missing = csv("missing.csv", true, "id", "a", "c", "label");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> predict(conf, model, missing,
                "missing", "id"));
        assertTrue(e.getMessage().contains("has no feature column 'b'") && e.getMessage().contains("sparkprop.feature-columns"),
                e.getMessage());

        // evaluate reads data.test the same way: the reordered rows give the same metrics.
        SparkSession spark = SparkTestSupport.spark();
        EvaluationMetrics original = ModelDataCommands.evaluate(spark,
                JobConfig.defaults().withOverrides(List.of("data.format=csv", "data.test=" + trainCsv)),
                model.toString(), null);
        EvaluationMetrics moved = ModelDataCommands.evaluate(spark,
                JobConfig.defaults().withOverrides(List.of("data.format=csv", "data.test=" + reordered)),
                model.toString(), null);
        assertEquals(original.toJson(), moved.toJson());
    }

    @Test
    void parquetFeaturesAreFoundByTheirTrainedNames() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            rows.add(RowFactory.create("row" + r, (double) label[r], x[r][0], x[r][1], x[r][2]));
        }
        StructType schema = new StructType().add("id", DataTypes.StringType).add("label", DataTypes.DoubleType)
                .add("a", DataTypes.DoubleType).add("b", DataTypes.DoubleType).add("c", DataTypes.DoubleType);
        Path trainParquet = dir.resolve("train.parquet");
        spark.createDataFrame(rows, schema).drop("id").coalesce(1).write().parquet(trainParquet.toString());
        Path model = train("parquet-run", "data.format=parquet", "data.train=" + trainParquet);
        assertEquals("[\"a\",\"b\",\"c\"]",
                ModelCodec.read(model).metadata().get("sparkprop.feature-columns"));

        Path reordered = dir.resolve("reordered.parquet");
        spark.createDataFrame(rows, schema).select("c", "id", "b", "label", "a").coalesce(1).write()
                .parquet(reordered.toString());
        Path conf = config("parquet.conf", "data.format = parquet");
        assertEquals(predict(conf, model, trainParquet, "parquet-as-trained", null),
                predict(conf, model, reordered, "parquet-reordered", "id"));
    }

    @Test
    void positionalTrainingDataRecordsNoNames() throws Exception {
        Path noHeader = csv("no-header.csv", false, "label", "a", "b", "c");
        Path model = train("positional-run", "data.format=csv", "data.csv.header=false", "data.label-column=_c0",
                "data.train=" + noHeader);
        assertFalse(ModelCodec.read(model).metadata().containsKey("sparkprop.feature-columns"));
        // Scored by position, as before.
        Path conf = config("positional.conf", "data.format = csv", "data.csv.header = false",
                "data.label-column = _c0");
        assertEquals(ROWS, predict(conf, model, noHeader, "positional", null).size());
    }
}
