package io.sparkprop.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.apache.spark.sql.functions.col;

import io.sparkprop.core.Activation;
import io.sparkprop.core.Loss;
import io.sparkprop.core.NetworkSpec;
import io.sparkprop.core.SplitMix64;
import io.sparkprop.core.io.Model;
import io.sparkprop.core.io.ModelCodec;
import io.sparkprop.spark.Main;
import io.sparkprop.spark.SparkTestSupport;
import io.sparkprop.spark.ml.MlpClassificationModel;
import io.sparkprop.spark.ml.MlpClassifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code predict} on real data through the command line ({@link Main#run}): unlabelled CSV and
 * Parquet scored, read back, joined on the passthrough ID or on input_file and input_row, and
 * compared with the estimator's {@code transform} of the same rows; bad rows under each policy;
 * deterministic output in input order; a hand-computed network; options that do not apply.
 */
class PredictCommandTest {

    private static final int ROWS = 400;
    private static final double TOLERANCE = 1e-12;

    @TempDir
    static Path dir;

    private static MlpClassificationModel model;
    private static Path modelFile;
    /** Row r's features, and its transform by the estimator's model: id -> row. */
    private static double[][] features;
    private static Map<Long, Row> expected;

    @BeforeAll
    static void fitAModel() {
        SparkSession spark = SparkTestSupport.spark();
        SplitMix64 random = new SplitMix64(7);
        features = new double[ROWS][3];
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            for (int j = 0; j < 3; j++) {
                features[r][j] = 4 * random.nextDouble() - 2;
            }
            double[] x = features[r];
            double label = x[0] + x[1] > 0.5 ? 0 : x[2] > 0 ? 1 : 2;
            rows.add(RowFactory.create((long) r, Vectors.dense(x.clone()), label));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType).add("features", new VectorUDT())
                .add("label", DataTypes.DoubleType);
        Dataset<Row> data = spark.createDataFrame(rows, schema);
        model = new MlpClassifier().setLayers(new int[] {3, 8, 3}).setMaxIter(5).setBatchSize(32).setStepSize(0.01)
                .setSeed(11).fit(data);
        Path saved = dir.resolve("model");
        try {
            model.write().save(saved.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        modelFile = saved.resolve("data").resolve("model.spm");
        expected = new HashMap<>();
        for (Row row : model.transform(data).collectAsList()) {
            expected.put(row.getLong(0), row);
        }
    }

    private static Path config(String name, String... lines) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    /** An unlabelled CSV: a quoted header field, IDs with leading zeros, a text column with commas. */
    private static Path csv() throws Exception {
        Path file = dir.resolve("to-score.csv");
        if (!Files.exists(file)) {
            StringBuilder text = new StringBuilder("id,x1,\"x 2\",x3,name\n");
            for (int r = 0; r < ROWS; r++) {
                text.append(String.format(Locale.ROOT, "r%04d,%s,%s,%s,\"Smith, row %d\"%n", r,
                        Double.toString(features[r][0]), Double.toString(features[r][1]),
                        Double.toString(features[r][2]), r));
            }
            Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
        }
        return file;
    }

    /** An unlabelled Parquet file (one file, rows in id order): id and a features vector. */
    private static Path parquet() {
        Path file = dir.resolve("to-score.parquet");
        if (!Files.exists(file)) {
            List<Row> rows = new ArrayList<>();
            for (int r = 0; r < ROWS; r++) {
                rows.add(RowFactory.create((long) r, Vectors.dense(features[r].clone())));
            }
            StructType schema = new StructType().add("id", DataTypes.LongType).add("features", new VectorUDT());
            SparkTestSupport.spark().createDataFrame(rows, schema).coalesce(1).write().parquet(file.toString());
        }
        return file;
    }

    /** Asserts that {@code scored}'s prediction columns equal the estimator's transform of row {@code id}. */
    private static void assertMatchesTransform(Row scored, long id) {
        Row want = expected.get(id);
        assertNotNull(want, "row " + id);
        Vector raw = (Vector) want.get(want.fieldIndex("rawPrediction"));
        Vector probability = (Vector) want.get(want.fieldIndex("probability"));
        assertEquals(want.getDouble(want.fieldIndex("prediction")), value(scored, "prediction"), "row " + id);
        for (int k = 0; k < 3; k++) {
            assertEquals(probability.apply(k), value(scored, "probability_" + k), TOLERANCE, "row " + id);
            assertEquals(raw.apply(k), value(scored, "rawPrediction_" + k), TOLERANCE, "row " + id);
        }
    }

    private static double value(Row row, String column) {
        Object v = row.get(row.fieldIndex(column));
        return v instanceof String s ? Double.parseDouble(s) : ((Number) v).doubleValue();
    }

    @Test
    void unlabelledCsvScoredToParquetJoinsBackOnItsIdAndMatchesTransform() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config("csv.conf", "data.format = csv", "data.partitions = 3");
        Path out = dir.resolve("csv-by-id");
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", modelFile.toString(),
                "--input", csv().toString(), "--output", out.toString(), "--passthrough", "id,name"));
        Dataset<Row> scored = spark.read().parquet(out.toString());
        assertEquals(List.of("id", "name", "prediction", "probability_0", "probability_1", "probability_2",
                "rawPrediction_0", "rawPrediction_1", "rawPrediction_2"), List.of(scored.columns()));
        List<Row> rows = scored.collectAsList();
        assertEquals(ROWS, rows.size());
        for (Row row : rows) {
            long id = Long.parseLong(row.getString(0).substring(1));
            assertEquals("Smith, row " + id, row.getString(1));
            assertMatchesTransform(row, id);
        }
    }

    @Test
    void withoutPassthroughCsvOutputNamesFileAndLineInInputOrderAndIsDeterministic() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config("csv-features.conf", "data.format = csv", "data.partitions = 3",
                "data.feature-columns = x1,x 2,x3");
        String first = null;
        for (String run : List.of("csv-by-line-1", "csv-by-line-2")) {
            Path out = dir.resolve(run);
            assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", modelFile.toString(),
                    "--input", csv().toString(), "--output", out.toString(), "--output-format", "csv"));
            String text = partFiles(out, ".csv");
            if (first == null) {
                first = text;
            } else {
                assertEquals(first, text, "the same input, config and model give the same files");
            }
        }
        // Part files in name order hold the rows in input order; each starts with the header.
        String header = "input_file,input_row,prediction,probability_0,probability_1,probability_2,rawPrediction_0,"
                + "rawPrediction_1,rawPrediction_2";
        List<String> lines = new ArrayList<>();
        for (String line : first.split("\n")) {
            if (line.equals(header)) {
                continue;
            }
            lines.add(line);
        }
        assertEquals(ROWS, lines.size());
        assertTrue(first.startsWith(header + "\n"), first.substring(0, 200));
        StructType schema = new StructType().add("input_file", DataTypes.StringType)
                .add("input_row", DataTypes.LongType);
        for (int r = 0; r < ROWS; r++) {
            String[] fields = lines.get(r).split(",");
            assertTrue(fields[0].endsWith("to-score.csv") && fields[0].startsWith("file:"), fields[0]);
            long line = Long.parseLong(fields[1]);
            assertEquals(r + 2, line, "line numbers count the header as line 1");
            Object[] values = new Object[fields.length];
            values[0] = fields[0];
            values[1] = line;
            System.arraycopy(fields, 2, values, 2, fields.length - 2);
            assertMatchesTransform(new GenericRowWithSchema(values, header(schema)), line - 2);
        }
    }

    private static StructType header(StructType ids) {
        StructType schema = ids.add("prediction", DataTypes.StringType);
        for (String prefix : List.of("probability_", "rawPrediction_")) {
            for (int k = 0; k < 3; k++) {
                schema = schema.add(prefix + k, DataTypes.StringType);
            }
        }
        return schema;
    }

    /** The part files of {@code out} ending in {@code suffix}, in name order, concatenated. */
    private static String partFiles(Path out, String suffix) throws Exception {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(out)) {
            for (Path part : files.filter(p -> p.getFileName().toString().startsWith("part-")
                    && p.getFileName().toString().endsWith(suffix)).sorted().toList()) {
                all.append(Files.readString(part, StandardCharsets.UTF_8));
            }
        }
        return all.toString();
    }

    @Test
    void unlabelledParquetJoinsBackOnItsIdAndOnFileAndRow() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config("parquet.conf", "data.format = parquet", "data.features-column = features",
                "data.partitions = 2");
        Path byId = dir.resolve("parquet-by-id");
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", modelFile.toString(),
                "--input", parquet().toString(), "--output", byId.toString(), "--passthrough", "id"));
        List<Row> rows = spark.read().parquet(byId.toString()).collectAsList();
        assertEquals(ROWS, rows.size());
        for (Row row : rows) {
            assertMatchesTransform(row, row.getLong(0));
        }

        Path byRow = dir.resolve("parquet-by-row");
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", modelFile.toString(),
                "--input", parquet().toString(), "--output", byRow.toString()));
        Dataset<Row> ids = spark.read().parquet(parquet().toString())
                .select(col("_metadata.file_path").as("input_file"), col("_metadata.row_index").as("input_row"),
                        col("id"));
        Dataset<Row> joined = spark.read().parquet(byRow.toString()).join(ids,
                scala.jdk.javaapi.CollectionConverters.asScala(List.of("input_file", "input_row")).toSeq());
        List<Row> matched = joined.collectAsList();
        assertEquals(ROWS, matched.size(), "every prediction joins back to its row on input_file and input_row");
        for (Row row : matched) {
            assertMatchesTransform(row, row.getLong(row.fieldIndex("id")));
        }
        // Input order: part file 0 holds the first rows.
        List<Long> order = new ArrayList<>();
        try (Stream<Path> files = Files.list(byRow)) {
            for (Path part : files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
                for (Row row : spark.read().parquet(part.toString()).select("input_row").collectAsList()) {
                    order.add(row.getLong(0));
                }
            }
        }
        for (int r = 0; r < ROWS; r++) {
            assertEquals(r, order.get(r));
        }
    }

    @Test
    void badRowsFailNamingFileAndLineOrAreSkippedAndLabelsAreNeitherNeededNorRead() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path data = dir.resolve("bad.csv");
        Files.writeString(data, String.join("\n",
                "id,label,x1,x2,x3",
                "a,cat,0.1,0.2,0.3",
                "b,dog,0.1,oops,0.3",
                "c,,0.5,0.6,0.7",
                "d,x,0.1,0.2",
                "e,y,nan,0.2,0.3",
                "f,7,-1,1.5,2",
                ""), StandardCharsets.UTF_8);
        Path fail = config("fail.conf", "data.format = csv");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Main.run(spark, "predict",
                "--config", fail.toString(), "--model", modelFile.toString(), "--input", data.toString(),
                "--output", dir.resolve("bad-fail").toString(), "--passthrough", "id"));
        assertTrue(e.getMessage().contains("bad.csv line 3") && e.getMessage().contains("column 'x2'")
                && e.getMessage().contains("oops"), e.getMessage());

        Path skip = config("skip.conf", "data.format = csv", "data.bad-rows = skip");
        Path out = dir.resolve("bad-skip");
        assertEquals(0, Main.run(spark, "predict", "--config", skip.toString(), "--model", modelFile.toString(),
                "--input", data.toString(), "--output", out.toString(), "--passthrough", "id,label"));
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("id").collectAsList();
        assertEquals(List.of("a", "c", "f"), rows.stream().map(r -> r.getString(0)).toList());
        assertEquals(List.of("cat", "", "7"), rows.stream().map(r -> r.getString(1) == null ? "" : r.getString(1))
                .toList());
        // The summary counts what was skipped.
        PredictCommand.Summary summary = PredictCommand.run(spark,
                io.sparkprop.spark.config.JobConfig.load(skip.toString(), new org.apache.hadoop.conf.Configuration()),
                PredictCommand.Options.of(modelFile.toString(), data.toString(), dir.resolve("bad-skip-2").toString(),
                        "csv", List.of("id"), false));
        assertEquals(3, summary.rows());
        assertEquals(3, summary.skipped());
    }

    @Test
    void existingOutputIsReplacedOnlyWithOverwrite() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config("csv.conf", "data.format = csv", "data.partitions = 3");
        Path out = dir.resolve("twice");
        String[] args = {"predict", "--config", conf.toString(), "--model", modelFile.toString(), "--input",
            csv().toString(), "--output", out.toString(), "--passthrough", "id,name"};
        assertEquals(0, Main.run(spark, args));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Main.run(spark, args));
        assertTrue(e.getMessage().contains("exists") && e.getMessage().contains("--overwrite"), e.getMessage());
        List<String> again = new ArrayList<>(List.of(args));
        again.add("--overwrite");
        assertEquals(0, Main.run(spark, again.toArray(new String[0])));
        assertEquals(ROWS, spark.read().parquet(out.toString()).count());
    }

    /** The feature-count error names the command line's keys, not the estimator's param names. */
    @Test
    void featureCountErrorNamesTheCommandLinesKeys() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path conf = config("count.conf", "data.format = csv");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Main.run(spark, "predict",
                "--config", conf.toString(), "--model", modelFile.toString(), "--input", csv().toString(),
                "--output", dir.resolve("count-out").toString()));
        assertTrue(e.getMessage().contains("Expected 3 features") && e.getMessage().contains("--passthrough")
                && e.getMessage().contains("data.feature-columns") && !e.getMessage().contains("featureColumns"),
                e.getMessage());
    }

    /**
     * A run that fails on a bad row (data.bad-rows = fail) removes the output directory it created,
     * and the parent it created, so that the rerun with the row fixed needs no --overwrite; a parent
     * that existed before, and a file in it, are left alone.
     */
    @Test
    void aFailedRunRemovesOnlyTheOutputItCreated() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        Path data = dir.resolve("one-bad.csv");
        Files.writeString(data, "id,x1,x2,x3\na,0.1,0.2,0.3\nb,0.1,oops,0.3\n", StandardCharsets.UTF_8);
        Path conf = config("fail-once.conf", "data.format = csv");
        Path existing = Files.createDirectories(dir.resolve("existing-parent"));
        Path keep = Files.writeString(existing.resolve("keep.txt"), "keep\n");
        Path out = existing.resolve("new-parent").resolve("scores");
        for (String format : new String[] {"parquet", "csv"}) {
            String[] args = {"predict", "--config", conf.toString(), "--model", modelFile.toString(), "--input",
                data.toString(), "--output", out.toString(), "--output-format", format, "--passthrough", "id"};
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Main.run(spark, args));
            assertTrue(e.getMessage().contains("line 3"), e.getMessage());
            assertTrue(!Files.exists(existing.resolve("new-parent")), format + ": the created parent is removed");
            assertEquals("keep\n", Files.readString(keep));
        }
        Files.writeString(data, "id,x1,x2,x3\na,0.1,0.2,0.3\nb,0.1,0.2,0.3\n", StandardCharsets.UTF_8);
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", modelFile.toString(),
                "--input", data.toString(), "--output", out.toString(), "--passthrough", "id"));
        assertEquals(2, spark.read().parquet(out.toString()).count());
    }

    /**
     * A regression network 2-1 with identity output, w = (0.5, -2), b = 1: predictions by hand. LIBSVM
     * lines with and without labels; a label is not read.
     */
    @Test
    void handComputedRegressionOnLibsvmWithAndWithoutLabels() throws Exception {
        SparkSession spark = SparkTestSupport.spark();
        NetworkSpec spec = NetworkSpec.of(new int[] {2, 1}, Activation.IDENTITY, Activation.IDENTITY, Loss.MSE);
        Path file = dir.resolve("linear.spm");
        ModelCodec.write(new Model(spec, new double[] {0.5, -2.0, 1.0}), file);
        Path data = dir.resolve("rows.libsvm");
        Files.writeString(data, "1:2 2:3\n7.5 1:1\n\n2:0.5\n", StandardCharsets.UTF_8);
        Path conf = config("libsvm.conf", "data.format = libsvm");
        Path out = dir.resolve("linear-out");
        assertEquals(0, Main.run(spark, "predict", "--config", conf.toString(), "--model", file.toString(),
                "--input", data.toString(), "--output", out.toString()));
        List<Row> rows = spark.read().parquet(out.toString()).orderBy("input_row").collectAsList();
        assertEquals(List.of("input_file", "input_row", "prediction"), List.of(rows.get(0).schema().fieldNames()));
        assertEquals(List.of(1L, 2L, 4L), rows.stream().map(r -> r.getLong(1)).toList());
        assertEquals(0.5 * 2 - 2 * 3 + 1, rows.get(0).getDouble(2), TOLERANCE);
        assertEquals(0.5 * 1 + 1, rows.get(1).getDouble(2), TOLERANCE);
        assertEquals(-2 * 0.5 + 1, rows.get(2).getDouble(2), TOLERANCE);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Main.run(spark, "predict",
                "--config", conf.toString(), "--model", file.toString(), "--input", data.toString(), "--output",
                dir.resolve("linear-ids").toString(), "--passthrough", "id"));
        assertTrue(e.getMessage().contains("libsvm data has no columns to pass through"), e.getMessage());
    }
}
